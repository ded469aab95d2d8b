package cli

import (
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/stream"
)

// filan is socat's -D: before the transfer, one line per descriptor of
// each address, with what fstat, fcntl and (for sockets) getsockopt and
// getsockname/getpeername say, in socat's columns.
func filan(w io.Writer, conns ...stream.Conn) {
	fmt.Fprintln(w, "  FD  type\tdevice\tinode\tmode\tlinks\tuid\tgid\trdev\tsize\tblksize\tblocks\tatime\t\t\t\tmtime\t\t\t\tctime\t\t\t\tcloexec\tflags")
	var seen []int
	for _, c := range conns {
		for _, fd := range fdsOf(c) {
			if slices.Contains(seen, fd) {
				continue
			}
			seen = append(seen, fd)
			fmt.Fprintln(w, filanLine(fd))
		}
	}
}

// fdsOf finds the descriptors behind a conn, through duals and halves.
func fdsOf(c any) []int {
	switch v := c.(type) {
	case *stream.Dual:
		return append(fdsOf(v.R), fdsOf(v.W)...)
	case syscall.Conn:
		rc, err := v.SyscallConn()
		if err != nil {
			return nil
		}
		var fd int
		if rc.Control(func(f uintptr) { fd = int(f) }) != nil {
			return nil
		}
		return []int{fd}
	case stream.Halves:
		return append(fdsOf(v.ReadHalf()), fdsOf(v.WriteHalf())...)
	}
	return nil
}

func filanLine(fd int) string {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Sprintf("%4d: %v", fd, err)
	}
	kind := map[uint32]string{unix.S_IFREG: "file", unix.S_IFIFO: "pipe", unix.S_IFSOCK: "socket", unix.S_IFCHR: "chrdev",
		unix.S_IFBLK: "blkdev", unix.S_IFDIR: "dir", unix.S_IFLNK: "symlink"}[st.Mode&unix.S_IFMT]
	ts := func(t unix.Timespec) string { return time.Unix(t.Sec, t.Nsec).Format("Mon Jan _2 15:04:05 2006") }
	cloexec, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	flags, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	line := fmt.Sprintf("%4d: %s\t%d,%d\t%d\t0%o\t%d\t%d\t%d\t%d,%d\t%d\t%d\t%d\t%s\t%s\t%s\t%d\tx%06x",
		fd, kind, unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino, st.Mode, st.Nlink, st.Uid, st.Gid,
		unix.Major(st.Rdev), unix.Minor(st.Rdev), st.Size, st.Blksize, st.Blocks, ts(st.Atim), ts(st.Mtim), ts(st.Ctim),
		cloexec&unix.FD_CLOEXEC, flags)
	if kind == "socket" {
		line += "\t" + socketInfo(fd)
	}
	return line
}

// socketInfo is the part of filan's line about a socket.
func socketInfo(fd int) string {
	out := ""
	for _, o := range []struct {
		name string
		opt  int
	}{{"TYPE", unix.SO_TYPE}, {"PROTOCOL", unix.SO_PROTOCOL}, {"REUSEADDR", unix.SO_REUSEADDR},
		{"KEEPALIVE", unix.SO_KEEPALIVE}, {"SNDBUF", unix.SO_SNDBUF}, {"RCVBUF", unix.SO_RCVBUF}} {
		if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, o.opt); err == nil {
			out += fmt.Sprintf("%s=%d\t", o.name, v)
		}
	}
	local, _ := unix.Getsockname(fd)
	peer, _ := unix.Getpeername(fd)
	return out + sockaddrString(local) + " <-> " + sockaddrString(peer)
}

// sockaddrString writes an address as socat does: "AF=2 127.0.0.1:80".
func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return fmt.Sprintf("AF=%d %s", unix.AF_INET, net.JoinHostPort(net.IP(a.Addr[:]).String(), fmt.Sprint(a.Port)))
	case *unix.SockaddrInet6:
		return fmt.Sprintf("AF=%d %s", unix.AF_INET6, net.JoinHostPort(net.IP(a.Addr[:]).String(), fmt.Sprint(a.Port)))
	case *unix.SockaddrUnix:
		return fmt.Sprintf("AF=%d %q", unix.AF_UNIX, a.Name)
	}
	return "AF=0 \"<anon>\""
}
