// Package tap holds the peers' views of a session's bytes as event
// observers (events.Tap): ncat's -o raw log and -x hex dump, netcat
// 1.10's -o dump, socat's -v and -x log and its -r and -R raw dumps. Each
// ignores the events themselves and sees the chunks; each is safe for
// both directions, and many sessions, at once.
package tap

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sockit/sockit/events"
)

// Log writes every chunk it sees to W, raw or as ncat's hex dump. It is
// safe for both directions at once.
type Log struct {
	W   io.Writer
	Hex bool
	mu  sync.Mutex
}

// Observe ignores the session's events.
func (l *Log) Observe(events.Event) {}

// Data records a chunk, whichever way it moved.
func (l *Log) Data(c events.Chunk) {
	p := c.Data
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.Hex {
		l.W.Write(p) //nolint:errcheck // a log must not end the session
		return
	}
	io.WriteString(l.W, HexDump(p)) //nolint:errcheck
}

// HexDump formats p as ncat -x does: a 4-digit offset, 16 bytes in two
// groups of 8, and the printable characters (other bytes and space as '.').
func HexDump(p []byte) string {
	var b strings.Builder
	for off := 0; off < len(p); off += 16 {
		line := p[off:min(off+16, len(p))]
		fmt.Fprintf(&b, "%04x   ", off)
		for i := 0; i < 16; i++ {
			if i < len(line) {
				fmt.Fprintf(&b, "%02x ", line[i])
			} else {
				b.WriteString("   ")
			}
			if i == 7 {
				b.WriteByte(' ')
			}
		}
		b.WriteByte(' ')
		for i := 0; i < 16; i++ {
			switch {
			case i >= len(line):
				b.WriteByte(' ')
			case line[i] > ' ' && line[i] < 0x7f:
				b.WriteByte(line[i])
			default:
				b.WriteByte('.')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
