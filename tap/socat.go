package tap

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sockit/sockit/events"
)

// SocatLog writes every chunk as socat's -v (Text) and -x (Hex) do: a
// header line "> 2026/11/24 21:07:01.000797285  length=13 from=0 to=12"
// (socat's own clock format: the microseconds in nine digits)
// ('>' left to right, '<' right to left), then the bytes as text with
// unprintable ones as '.', and/or as hex. The offsets count per session
// and direction, as in socat's forked children.
type SocatLog struct {
	W         io.Writer
	Text, Hex bool
	// Now returns the time for headers; nil means time.Now.
	Now func() time.Time
	mu  sync.Mutex
	off map[string]*[2]int64 // by session uid
}

// Observe forgets a session's offsets once it has closed.
func (l *SocatLog) Observe(e events.Event) {
	if e.Kind != events.Closed {
		return
	}
	l.mu.Lock()
	delete(l.off, e.UID)
	l.mu.Unlock()
}

// Data records a chunk.
func (l *SocatLog) Data(c events.Chunk) {
	p := c.Data
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off == nil {
		l.off = map[string]*[2]int64{}
	}
	off := l.off[c.UID]
	if off == nil {
		off = new([2]int64)
		l.off[c.UID] = off
	}
	dir, i := byte('<'), 1
	if c.AToB {
		dir, i = '>', 0
	}
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	var b strings.Builder
	t := now()
	// socat 1.7.4 prints the microseconds in nine digits: .000801503
	fmt.Fprintf(&b, "%c %s.%09d  length=%d from=%d to=%d\n", dir, t.Format("2006/01/02 15:04:05"), t.Nanosecond()/1000,
		len(p), off[i], off[i]+int64(len(p))-1)
	off[i] += int64(len(p))
	switch {
	case l.Hex && l.Text:
		socatRows(&b, p)
	case l.Hex:
		for _, x := range p {
			fmt.Fprintf(&b, " %02x", x)
		}
		b.WriteByte('\n')
	default:
		socatText(&b, p)
	}
	io.WriteString(l.W, b.String()) //nolint:errcheck // a log must not end the session
}

// Raw writes the bytes of one direction to W as they are: socat's -r
// (left to right, AToB) and -R (right to left).
type Raw struct {
	W    io.Writer
	AToB bool
	mu   sync.Mutex
}

// Observe ignores the session's events.
func (r *Raw) Observe(events.Event) {}

// Data writes a chunk of r's direction.
func (r *Raw) Data(c events.Chunk) {
	if c.AToB != r.AToB {
		return
	}
	r.mu.Lock()
	r.W.Write(c.Data) //nolint:errcheck // a dump that cannot be written does not stop the session
	r.mu.Unlock()
}

// socatText is socat -v's text: C escapes for BEL, BS, VT, FF, CR and
// the backslash, tab and newline as they are, other unprintable bytes as
// '.', and no newline added at the end.
func socatText(b *strings.Builder, p []byte) {
	for _, x := range p {
		switch x {
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		case '\\':
			b.WriteString(`\\`)
		case '\t', '\n':
			b.WriteByte(x)
		default:
			b.WriteByte(printable(x))
		}
	}
}

// socatRows is socat -v -x's dump: rows of at most 16 bytes, a row ending
// after each newline, the bytes in hex padded to 16 columns, then as
// text with unprintable bytes as '.'; "--" ends the chunk.
func socatRows(b *strings.Builder, p []byte) {
	for len(p) > 0 {
		n := min(16, len(p))
		if i := strings.IndexByte(string(p[:n]), '\n'); i >= 0 {
			n = i + 1
		}
		for _, x := range p[:n] {
			fmt.Fprintf(b, " %02x", x)
		}
		b.WriteString(strings.Repeat("   ", 16-n))
		b.WriteString("  ")
		for _, x := range p[:n] {
			b.WriteByte(printable(x))
		}
		b.WriteByte('\n')
		p = p[n:]
	}
	b.WriteString("--\n")
}

// printable is x if it is printable ASCII, else '.'.
func printable(x byte) byte {
	if x >= 0x20 && x < 0x7f {
		return x
	}
	return '.'
}
