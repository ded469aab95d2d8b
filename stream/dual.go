package stream

import (
	"errors"
	"io"
	"net"
)

// Dual joins two conns into one, socat's "A!!B": reads come from R and
// writes go to W. CloseWrite half-closes W; Close closes both.
type Dual struct {
	R, W Conn
}

// Read reads from R.
func (d *Dual) Read(p []byte) (int, error) { return d.R.Read(p) }

// Write writes to W.
func (d *Dual) Write(p []byte) (int, error) { return d.W.Write(p) }

// CloseWrite half-closes W.
func (d *Dual) CloseWrite() error { return d.W.CloseWrite() }

// Close closes R and W.
func (d *Dual) Close() error { return errors.Join(d.R.Close(), d.W.Close()) }

// LocalAddr returns R's local address.
func (d *Dual) LocalAddr() net.Addr { return d.R.LocalAddr() }

// RemoteAddr returns R's remote address.
func (d *Dual) RemoteAddr() net.Addr { return d.R.RemoteAddr() }

// ReadHalf returns what R reads from, for the relay's splice paths.
func (d *Dual) ReadHalf() io.Reader { return ReaderOf(d.R) }

// WriteHalf returns what W writes to.
func (d *Dual) WriteHalf() io.Writer { return WriterOf(d.W) }
