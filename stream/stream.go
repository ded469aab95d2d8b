// Package stream defines Conn, the one shape every sockit endpoint takes: a
// bidirectional byte stream that can be half-closed.
//
// *net.TCPConn and *net.UnixConn satisfy Conn as they are, so the relay can
// hand them to io.Copy unwrapped and keep the kernel's splice paths.
package stream

import (
	"io"
	"net"
)

// Conn is a bidirectional byte stream with half-close.
type Conn interface {
	io.Reader
	io.Writer
	// CloseWrite signals end of stream to the peer (shutdown SHUT_WR)
	// while reads may go on.
	CloseWrite() error
	// Close releases the conn in both directions.
	Close() error
	// LocalAddr and RemoteAddr name the ends; either may be nil for
	// endpoints that are not sockets.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// Halves is implemented by conns built from two separate descriptors, such
// as stdio or a child's pipes. The relay reads from ReadHalf and writes to
// WriteHalf directly, so that the concrete *os.File values reach io.Copy.
type Halves interface {
	ReadHalf() io.Reader
	WriteHalf() io.Writer
}

// Pair joins a reader and a writer into a Conn. CloseWrite closes w if it is
// an io.Closer; Close closes both.
type Pair struct {
	R     io.Reader
	W     io.Writer
	Local net.Addr
	Peer  net.Addr
}

// Read reads from R.
func (p *Pair) Read(b []byte) (int, error) { return p.R.Read(b) }

// Write writes to W.
func (p *Pair) Write(b []byte) (int, error) { return p.W.Write(b) }

// CloseWrite closes W when it can be closed.
func (p *Pair) CloseWrite() error {
	if c, ok := p.W.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Close closes R and W when they can be closed.
func (p *Pair) Close() error {
	var err error
	if c, ok := p.R.(io.Closer); ok {
		err = c.Close()
	}
	if err2 := p.CloseWrite(); err == nil {
		err = err2
	}
	return err
}

// LocalAddr returns Local.
func (p *Pair) LocalAddr() net.Addr { return p.Local }

// RemoteAddr returns Peer.
func (p *Pair) RemoteAddr() net.Addr { return p.Peer }

// ReadHalf returns R.
func (p *Pair) ReadHalf() io.Reader { return p.R }

// WriteHalf returns W.
func (p *Pair) WriteHalf() io.Writer { return p.W }

// ReaderOf returns the reader behind c for the kernel's fast paths: its
// ReadHalf when it has halves, else c itself.
func ReaderOf(c Conn) io.Reader {
	if h, ok := c.(Halves); ok {
		return h.ReadHalf()
	}
	return c
}

// WriterOf returns the writer behind c: its WriteHalf, else c itself.
func WriterOf(c Conn) io.Writer {
	if h, ok := c.(Halves); ok {
		return h.WriteHalf()
	}
	return c
}
