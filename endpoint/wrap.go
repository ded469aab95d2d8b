package endpoint

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// wrapOptions are the options decorate handles; a spec with none of them
// gets its conn back untouched, so the kernel's fast paths stay.
var wrapOptions = []string{"shut-none", "shut-down", "shut-close", "shut-null", "end-close", "cool-write", "readbytes", "escape", "crlf", "cr"}

// Decorate applies the options that change how a conn ends or reads:
// socat's shut-* and end-close (what end of stream does to this address),
// cool-write (a peer that went away ends the stream quietly) and
// readbytes (at most this many bytes are read from the address), and
// crlf and cr (line ends turned into CRLF or CR on the way out and back).
func Decorate(c stream.Conn, s address.Spec) stream.Conn {
	if !decorates(s) {
		return c
	}
	w := &wrapped{Conn: c, shut: "shut-down", limit: -1, escape: -1}
	asked := false
	for _, o := range s.Options {
		switch o.Name {
		case "shut-none", "shut-down", "shut-close", "shut-null":
			w.shut, asked = o.Name, true
		case "end-close":
			w.shut, asked = "shut-close", true
		case "cool-write":
			w.cool, asked = flagOn(o.Value), true
		case "readbytes":
			w.limit, _ = strconv.ParseInt(o.Value, 10, 64) // validated by address.Parse
			asked = true
		case "escape":
			n, _ := strconv.Atoi(o.Value) // validated by address.Parse
			w.escape, asked = n, true
		}
	}
	if asked {
		c = w
	}
	if on(s, "crlf") {
		c = stream.CRLF(c)
	}
	if on(s, "cr") {
		c = stream.CR(c)
	}
	return c
}

// decorates reports whether s asks for any of Decorate's options.
func decorates(s address.Spec) bool {
	for _, name := range wrapOptions {
		if _, ok := s.Opt(name); ok {
			return true
		}
	}
	return false
}

// wrapped is a conn with Decorate's options applied.
type wrapped struct {
	stream.Conn
	shut   string
	cool   bool
	limit  int64 // bytes left to read; -1 for no limit
	escape int   // a byte that reads as EOF (socat's escape); -1 for none
	ended  bool  // the escape byte was read
	once   sync.Once
}

func (w *wrapped) Read(p []byte) (int, error) {
	if w.limit == 0 || w.ended {
		return 0, io.EOF
	}
	if w.escape >= 0 {
		n, err := w.Conn.Read(p)
		if i := bytes.IndexByte(p[:n], byte(w.escape)); i >= 0 {
			w.ended = true
			return i, nil
		}
		return n, err
	}
	if w.limit > 0 && int64(len(p)) > w.limit {
		p = p[:w.limit]
	}
	n, err := w.Conn.Read(p)
	if w.limit > 0 {
		w.limit -= int64(n)
	}
	return n, err
}

func (w *wrapped) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if err != nil && w.cool && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)) {
		return n, io.ErrClosedPipe // ends the direction as a closed peer does, without an error
	}
	return n, err
}

// CloseWrite does what the shut option says.
func (w *wrapped) CloseWrite() error {
	switch w.shut {
	case "shut-none":
		return nil
	case "shut-close":
		var err error
		w.once.Do(func() { err = w.Conn.Close() })
		return err
	case "shut-null":
		_, err := w.Conn.Write(nil)
		return err
	}
	return w.Conn.CloseWrite()
}

func (w *wrapped) Close() error {
	var err error
	w.once.Do(func() { err = w.Conn.Close() })
	return err
}

// ReadHalf keeps the kernel's splice path for readbytes: io.Copy splices
// from a LimitedReader over a socket. escape looks at every byte.
func (w *wrapped) ReadHalf() io.Reader {
	if w.escape >= 0 {
		return readerFunc(w.Read)
	}
	r := stream.ReaderOf(w.Conn)
	if w.limit >= 0 {
		return &io.LimitedReader{R: r, N: w.limit}
	}
	return r
}

// WriteHalf writes through cool-write's check when asked, else straight.
func (w *wrapped) WriteHalf() io.Writer {
	if w.cool {
		return writerFunc(w.Write)
	}
	return stream.WriterOf(w.Conn)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
