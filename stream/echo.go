package stream

import (
	"io"
	"net"
	"sync"
)

// echoSize is how many bytes an Echo holds before writes wait for reads:
// half a kernel pipe's default, a Go io.Copy's buffer.
const echoSize = 32 << 10

// Echo is a Conn that reads back what was written to it, in order: an
// unnamed pipe (socat's PIPE) held in memory. A kernel pipe costs two
// descriptors, their registrations with the poller and a system call
// each way for every session it serves; an Echo costs a buffer while
// bytes are in it or a reader waits. CloseWrite ends the stream for the
// reader once it has read what came before; Close ends both ways.
//
// ReadFrom and WriteTo move bytes between the buffer and another reader
// or writer without a second copy; one goroutine may read and one write
// at a time.
type Echo struct {
	mu      sync.Mutex
	cond    sync.Cond
	buf     *[]byte // from echoBufs; data is buf[r:w], the writer fills buf[w:]
	r, w    int
	filling bool // ReadFrom is reading into buf[w:], unlocked
	sending bool // WriteTo is writing out buf[r:w], unlocked
	eof     bool // CloseWrite: no more will come
	closed  bool
}

// echoBufs lends Echo buffers: a session's comes back when it is drained
// for good, so a forking relay in front of PIPE allocates none per client.
var echoBufs = sync.Pool{New: func() any { b := make([]byte, echoSize); return &b }}

// release gives the buffer back once nobody can touch it. e.mu is held.
func (e *Echo) release() {
	if e.buf != nil && !e.filling && !e.sending {
		echoBufs.Put(e.buf)
	}
	e.buf = nil
}

// NewEcho returns an empty Echo.
func NewEcho() *Echo {
	e := &Echo{}
	e.cond.L = &e.mu
	return e
}

// room waits for space to write into and returns it, or an error once
// the Echo is closed. e.mu is held.
func (e *Echo) room() ([]byte, error) {
	for {
		if e.closed || e.eof {
			return nil, io.ErrClosedPipe
		}
		if e.r == e.w {
			e.r, e.w = 0, 0 // empty: start over at the front (only the writer moves w)
		}
		if e.buf == nil {
			e.buf = echoBufs.Get().(*[]byte)
		}
		if e.w < len(*e.buf) {
			return (*e.buf)[e.w:], nil
		}
		e.cond.Wait()
	}
}

// commit makes n written bytes readable. e.mu is held.
func (e *Echo) commit(n int) {
	e.w += n
	if n > 0 {
		e.cond.Broadcast()
	}
}

// data waits for bytes to read and returns them, or io.EOF after
// CloseWrite, or an error once closed. e.mu is held.
func (e *Echo) data() ([]byte, error) {
	for {
		if e.closed {
			return nil, net.ErrClosed
		}
		if e.r < e.w {
			return (*e.buf)[e.r:e.w], nil
		}
		if e.eof {
			e.release() // drained for good
			return nil, io.EOF
		}
		e.cond.Wait()
	}
}

// consume marks n bytes read. e.mu is held.
func (e *Echo) consume(n int) {
	e.r += n
	if n > 0 {
		e.cond.Broadcast()
	}
}

// Write copies p into the buffer, waiting for the reader when it is full.
func (e *Echo) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	total := 0
	for len(p) > 0 {
		space, err := e.room()
		if err != nil {
			return total, err
		}
		n := copy(space, p)
		e.commit(n)
		p = p[n:]
		total += n
	}
	return total, nil
}

// Read copies out what was written and not yet read.
func (e *Echo) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	d, err := e.data()
	if err != nil {
		return 0, err
	}
	n := copy(p, d)
	e.consume(n)
	return n, nil
}

// ReadFrom reads src into the buffer until src ends (its EOF is not the
// Echo's: CloseWrite is) or the Echo closes.
func (e *Echo) ReadFrom(src io.Reader) (int64, error) {
	var total int64
	for {
		e.mu.Lock()
		space, err := e.room()
		e.filling = err == nil
		e.mu.Unlock()
		if err != nil {
			return total, err
		}
		n, rerr := src.Read(space) // unlocked: the reader never touches buf[w:]
		e.mu.Lock()
		e.filling = false
		if e.closed {
			n = 0 // the buffer is gone; what came is dropped as Close drops it
		}
		e.commit(n)
		e.mu.Unlock()
		total += int64(n)
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// WriteTo writes what comes to dst until CloseWrite has been read up to.
func (e *Echo) WriteTo(dst io.Writer) (int64, error) {
	var total int64
	for {
		e.mu.Lock()
		d, err := e.data()
		e.sending = err == nil
		e.mu.Unlock()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, werr := dst.Write(d) // unlocked: the writer never touches buf[r:w]
		e.mu.Lock()
		e.sending = false
		if !e.closed {
			e.consume(n)
		}
		e.mu.Unlock()
		total += int64(n)
		if werr != nil {
			return total, werr
		}
	}
}

// CloseWrite ends the stream: the reader gets EOF after what is buffered.
func (e *Echo) CloseWrite() error {
	e.mu.Lock()
	e.eof = true
	e.cond.Broadcast()
	e.mu.Unlock()
	return nil
}

// Close ends both ways at once; what is buffered is dropped.
func (e *Echo) Close() error {
	e.mu.Lock()
	e.closed = true
	e.release()
	e.cond.Broadcast()
	e.mu.Unlock()
	return nil
}

// LocalAddr is nil: an Echo is no socket.
func (e *Echo) LocalAddr() net.Addr { return nil }

// RemoteAddr is nil.
func (e *Echo) RemoteAddr() net.Addr { return nil }
