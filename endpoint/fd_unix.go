//go:build unix

package endpoint

import (
	"fmt"
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// openFD is socat's FD:n (and a bare number): the descriptor the process
// inherited, taken over and closed at the end. A socket becomes a net.Conn
// (half-close is shutdown); a descriptor open for writing only is closed
// at end of stream, so that a pipe's reader sees EOF.
func openFD(s address.Spec) (stream.Conn, error) {
	n, err := strconv.Atoi(s.Arg(0))
	if err != nil || n < 0 {
		return nil, fmt.Errorf("FD %q: not a descriptor number", s.Arg(0))
	}
	flags, err := unix.FcntlInt(uintptr(n), unix.F_GETFL, 0)
	if err != nil {
		return nil, fmt.Errorf("FD %d: %w", n, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(n, &st); err == nil && st.Mode&unix.S_IFMT != unix.S_IFREG {
		// A pipe, terminal or socket set non-blocking before NewFile is
		// one Go's poller waits on, so that closing it ends a read.
		_ = unix.SetNonblock(n, true)
	}
	f := os.NewFile(uintptr(n), "fd"+s.Arg(0))
	if err := SetTermios(f, s); err != nil {
		return nil, err
	}
	if err := fileOptions(f, s); err != nil {
		return nil, err
	}
	if _, err := unix.GetsockoptInt(n, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("FD %d: %w", n, err)
		}
		if sc, ok := c.(stream.Conn); ok {
			return sc, nil
		}
		if pc, ok := c.(packetSocket); ok {
			return &datagramConn{packetSocket: pc}, nil
		}
		c.Close()
		return nil, fmt.Errorf("FD %d: a socket sockit cannot stream", n)
	}
	switch flags & unix.O_ACCMODE {
	case unix.O_WRONLY:
		return &stream.Pair{R: eofReader{}, W: f}, nil
	case unix.O_RDONLY:
		return &stream.Pair{R: f, W: readOnly{}}, nil
	}
	return &fileConn{f: f, closed: make(chan struct{})}, nil
}

// Dup returns a second descriptor for f when it is an *os.File, so that a
// session may close its copy and leave f open (what a forked child of
// socat's has): fork's sessions on STDIO each get one. Anything else
// comes back as it is.
func Dup[T any](v T) T {
	f, ok := any(v).(*os.File)
	if !ok || f == nil {
		return v
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return v
	}
	nfd := -1
	if err := rc.Control(func(fd uintptr) { nfd, _ = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil || nfd < 0 {
		return v
	}
	d, _ := any(os.NewFile(uintptr(nfd), f.Name())).(T)
	return d
}
