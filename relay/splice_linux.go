package relay

import (
	"io"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// spliceChunk is the most one splice(2) call moves.
const spliceChunk = 1 << 20

// spliceFromPipe moves bytes from a pipe straight into a stream socket
// with splice(2), a path Go's io.Copy does not take (it falls back to a
// 32 KiB user-space copy after sendfile refuses a pipe). handled is false
// when src is not a pipe or dst not a TCP or Unix stream socket.
func spliceFromPipe(dst io.Writer, src io.Reader) (written int64, handled bool, err error) {
	f, ok := src.(*os.File)
	if !ok {
		return 0, false, nil
	}
	var sc syscall.Conn
	switch c := dst.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return 0, false, nil
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return 0, false, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	pipe := int(f.Fd()) // blocking: splice waits in the kernel for pipe data
	for {
		var n int64
		var serr error
		werr := rc.Write(func(fd uintptr) bool {
			n, serr = unix.Splice(pipe, nil, int(fd), nil, spliceChunk, unix.SPLICE_F_MOVE)
			return serr != unix.EAGAIN
		})
		if n > 0 {
			written += n
		}
		switch {
		case werr != nil:
			return written, true, werr
		case serr == unix.EINTR:
			continue
		case serr != nil:
			return written, true, serr
		case n == 0:
			return written, true, nil // EOF on the pipe
		}
	}
}
