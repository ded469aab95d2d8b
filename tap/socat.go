package tap

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// SocatLog writes every chunk as socat's -v (Text) and -x (Hex) do: a
// header line "> 2026/11/24 21:07:01.000797285  length=13 from=0 to=12"
// ('>' left to right, '<' right to left; offsets count per direction),
// then the bytes as text with unprintable ones as '.', and/or as hex.
type SocatLog struct {
	W         io.Writer
	Text, Hex bool
	// Now returns the time for headers; nil means time.Now.
	Now func() time.Time
	mu  sync.Mutex
	off [2]int64
}

// Chunk records p, which moved left to right when toB is true.
func (l *SocatLog) Chunk(toB bool, p []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	dir, i := byte('<'), 1
	if toB {
		dir, i = '>', 0
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%c %s  length=%d from=%d to=%d\n", dir, now().Format("2006/01/02 15:04:05.000000000"),
		len(p), l.off[i], l.off[i]+int64(len(p))-1)
	l.off[i] += int64(len(p))
	if l.Hex {
		for _, c := range p {
			fmt.Fprintf(&b, " %02x", c)
		}
		b.WriteByte('\n')
	}
	if l.Text || !l.Hex {
		for _, c := range p {
			if c == '\n' || (c >= 0x20 && c < 0x7f) {
				b.WriteByte(c)
			} else {
				b.WriteByte('.')
			}
		}
		if len(p) > 0 && p[len(p)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	io.WriteString(l.W, b.String()) //nolint:errcheck // a log must not end the session
}
