package serve

import (
	"io"
	"sync"
	"time"

	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// fanout is ncat's -k listen mode without -e: stdin goes to every client,
// and whatever a client sends goes to stdout.
type fanout struct {
	mu    sync.Mutex
	out   io.Writer
	conns map[stream.Conn]*int64 // what stdin gave each

	eof        bool
	noShutdown bool
	tap        func(p []byte) // if set, sees each chunk of stdin once, as sent (Watch.RoomTap)
}

func newFanout(out io.Writer, noShutdown bool, tap func([]byte)) *fanout {
	return &fanout{out: out, conns: make(map[stream.Conn]*int64), noShutdown: noShutdown, tap: tap}
}

// readFrom copies stdin to every client until EOF, then half-closes them.
func (f *fanout) readFrom(in io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if f.tap != nil {
				f.tap(buf[:n]) // once, however many clients hear it, as ncat's -o logs it
			}
			f.mu.Lock()
			for c, sent := range f.conns {
				m, werr := c.Write(buf[:n])
				*sent += int64(m)
				if werr != nil {
					c.Close()
					delete(f.conns, c)
				}
			}
			f.mu.Unlock()
		}
		if err != nil {
			f.mu.Lock()
			f.eof = true
			if !f.noShutdown {
				for c := range f.conns {
					c.CloseWrite()
				}
			}
			f.mu.Unlock()
			return
		}
	}
}

// add registers c to receive stdin from now on.
func (f *fanout) add(c stream.Conn) {
	f.mu.Lock()
	f.conns[c] = new(int64)
	if f.eof && !f.noShutdown {
		c.CloseWrite()
	}
	f.mu.Unlock()
}

// serve copies what c sends to stdout until c ends, and returns what
// went each way; add c first.
func (f *fanout) serve(c stream.Conn) (st relay.Stats) {
	start := time.Now()
	// A small buffer: an idle client should cost little (DESIGN.md).
	buf := make([]byte, 2048)
	for {
		n, err := c.Read(buf)
		st.BToA += int64(n)
		if n > 0 {
			f.mu.Lock()
			f.out.Write(buf[:n]) //nolint:errcheck // stdout failing ends nothing here
			f.mu.Unlock()
		}
		if err != nil {
			break
		}
	}
	// The client's stream has ended: its session ends, as in ncat. (A
	// half-closed client cannot be told from a gone one without writing to
	// it, and keeping gone ones until stdin ends would leak them.)
	f.mu.Lock()
	if sent := f.conns[c]; sent != nil {
		st.AToB = *sent
	}
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
	st.Elapsed = time.Since(start)
	return st
}

// closeAll closes every client.
func (f *fanout) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		c.Close()
	}
}
