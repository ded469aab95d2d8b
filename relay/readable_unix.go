//go:build unix

package relay

import (
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// awaitReadable waits until c has something to read (bytes, EOF or an
// error) without reading it, through Go's poller, so that a caller can
// take a buffer only then. Only a *net.TCPConn or *net.UnixConn is
// waited on: a wrapper may hold bytes of its own (a datagram conn's
// first datagram) that the socket does not show; anything else returns
// at once. A pending socket error (a reset) is returned, as a read would
// have returned it: the peek takes it from the socket.
func awaitReadable(c any) error {
	var rc syscall.RawConn
	var err error
	var nc net.Conn
	switch c := c.(type) {
	case *net.TCPConn:
		rc, err = c.SyscallConn()
		nc = c
	case *net.UnixConn:
		rc, err = c.SyscallConn()
		nc = c
	default:
		return nil
	}
	if err != nil {
		return nil // the read will say
	}
	var one [1]byte
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		_, _, perr = unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return perr != unix.EAGAIN && perr != unix.EINTR
	})
	if err != nil || perr == nil {
		return nil // closed under us, or readable: the read will say
	}
	return &net.OpError{Op: "read", Net: nc.LocalAddr().Network(), Source: nc.LocalAddr(), Addr: nc.RemoteAddr(), Err: os.NewSyscallError("recvfrom", perr)}
}
