// Package tap holds observers of a session's bytes: ncat's -o raw log and
// -x hex dump today; pcap and metrics later.
package tap

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// Log writes every chunk it sees to W, raw or as ncat's hex dump. It is
// safe for both directions at once.
type Log struct {
	W   io.Writer
	Hex bool
	mu  sync.Mutex
}

// Chunk records p, which moved in one direction.
func (l *Log) Chunk(_ bool, p []byte) {
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
