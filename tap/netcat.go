package tap

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/sockit/sockit/events"
)

// NetcatDump writes netcat 1.10's -o hex dump: a line per 16 bytes,
// "<" for bytes received from the network and ">" for bytes sent to it,
// an 8-digit offset counted per direction, the bytes, and after "#" the
// printable ones (others as '.'). It is safe for both directions at once.
type NetcatDump struct {
	W        io.Writer
	mu       sync.Mutex
	sent     int64
	received int64
}

// Observe ignores the session's events.
func (d *NetcatDump) Observe(events.Event) {}

// Data records a chunk: sent (">") when it went to the network.
func (d *NetcatDump) Data(c events.Chunk) {
	p := c.Data
	d.mu.Lock()
	defer d.mu.Unlock()
	dir, off := byte('<'), &d.received
	if c.ToNet {
		dir, off = '>', &d.sent
	}
	var b strings.Builder
	for i := 0; i < len(p); i += 16 {
		line := p[i:min(i+16, len(p))]
		fmt.Fprintf(&b, "%c %08x ", dir, *off+int64(i))
		for j := 0; j < 16; j++ {
			if j < len(line) {
				fmt.Fprintf(&b, "%02x ", line[j])
			} else {
				b.WriteString("   ")
			}
		}
		b.WriteString("# ")
		for _, c := range line {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteByte('\n')
	}
	*off += int64(len(p))
	io.WriteString(d.W, b.String()) //nolint:errcheck // a log must not end the session
}
