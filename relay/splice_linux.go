package relay

import (
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// spliceChunk is the most one splice(2) call asks to move.
const spliceChunk = 1 << 20

// spliceFromPipe moves bytes from a pipe straight into a stream socket with
// splice(2): Go's io.Copy has no such path (sendfile refuses a pipe, and it
// falls back to a 32 KiB copy through user space). handled is false when
// src is not a pollable pipe or dst not a TCP or Unix stream socket; the
// caller then copies as usual.
//
// Both descriptors stay non-blocking and every wait goes through Go's
// poller, so closing either end (the session ending, -i, a signal) wakes
// the copy. A splice that cannot proceed returns EAGAIN whether the pipe is
// empty or the socket full; FIONREAD on the pipe tells which to wait for.
func spliceFromPipe(dst io.Writer, src io.Reader) (written int64, handled bool, err error) {
	f, ok := src.(*os.File)
	if !ok {
		return 0, false, nil
	}
	var sock syscall.RawConn
	switch c := dst.(type) {
	case *net.TCPConn:
		sock, err = c.SyscallConn()
	case *net.UnixConn:
		if c.LocalAddr().Network() != "unix" {
			return 0, false, nil
		}
		sock, err = c.SyscallConn()
	default:
		return 0, false, nil
	}
	if err != nil {
		return 0, false, nil
	}
	pipe, err := f.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	isPipe := false
	if cerr := pipe.Control(func(fd uintptr) {
		var st unix.Stat_t
		fl, ferr := unix.FcntlInt(fd, unix.F_GETFL, 0)
		isPipe = unix.Fstat(int(fd), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO &&
			ferr == nil && fl&unix.O_NONBLOCK != 0
	}); cerr != nil || !isPipe {
		return 0, false, nil
	}

	// step runs one splice from pfd into sfd; it reports whether the
	// caller's wait is over and, when it is not, whose readiness to await.
	var n int64
	var serr error
	var sockFull bool
	step := func(pfd, sfd int) {
		n, serr = unix.Splice(pfd, nil, sfd, nil, spliceChunk, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
		sockFull = false
		if serr == unix.EAGAIN {
			queued, qerr := unix.IoctlGetInt(pfd, unix.TIOCINQ) // FIONREAD
			sockFull = qerr == nil && queued > 0
		}
	}
	for {
		// Wait on the pipe until a splice moves bytes, reaches EOF, fails,
		// or finds the socket full.
		rerr := pipe.Read(func(pfd uintptr) bool {
			return sock.Control(func(sfd uintptr) { step(int(pfd), int(sfd)) }) != nil ||
				serr != unix.EAGAIN || sockFull
		})
		if rerr == nil && serr == unix.EAGAIN && sockFull {
			// The socket is full: wait on it, with the pipe held still.
			rerr = sock.Write(func(sfd uintptr) bool {
				cerr := pipe.Control(func(pfd uintptr) { step(int(pfd), int(sfd)) })
				return cerr != nil || serr != unix.EAGAIN || !sockFull
			})
		}
		if n > 0 {
			written += n
		}
		switch {
		case rerr != nil:
			return written, true, rerr
		case serr == unix.EINTR || serr == unix.EAGAIN:
			continue
		case serr != nil:
			return written, true, serr
		case n == 0:
			return written, true, nil // EOF on the pipe
		}
	}
}
