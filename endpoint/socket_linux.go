package endpoint

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// socat's generic sockets (SOCKET-CONNECT, -LISTEN, -SENDTO, -RECV,
// -RECVFROM, -DATAGRAM): a socket of any domain, type and protocol, given
// as numbers, with its address as the bytes of a sockaddr after the
// family, in socat's dalan notation ("x0050 x7f000001 x0000000000000000"
// is 127.0.0.1:80 for domain 2). A bind option is such bytes too.

// genericSocket parses the parameters: SOCKET-CONNECT and -LISTEN have
// domain:protocol:address (type SOCK_STREAM), the others
// domain:type:protocol:address.
func genericSocket(s address.Spec) (domain, typ, proto int, sa []byte, err error) {
	args := s.Args
	typ = unix.SOCK_STREAM
	nums := []*int{&domain, &proto}
	if len(args) == 4 {
		nums = []*int{&domain, &typ, &proto}
	}
	for i, p := range nums {
		n, err := strconv.Atoi(args[i])
		if err != nil {
			return 0, 0, 0, nil, fmt.Errorf("%s: parameter %q is not a number", s.Kind, args[i])
		}
		*p = n
	}
	sa, err = rawSockaddr(domain, args[len(args)-1])
	return domain, typ, proto, sa, err
}

// rawSockaddr is a sockaddr: the family in host byte order, then the
// dalan bytes.
func rawSockaddr(domain int, dalan string) ([]byte, error) {
	b, err := address.ParseDalan(dalan)
	if err != nil {
		return nil, err
	}
	sa := make([]byte, 2, 2+len(b))
	binary.NativeEndian.PutUint16(sa, uint16(domain))
	return append(sa, b...), nil
}

// rawCall runs connect(2), bind(2) or sendto(2) with a raw sockaddr.
func rawCall(trap uintptr, fd int, sa []byte) error {
	_, _, e := unix.Syscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa)))
	if e != 0 {
		return e
	}
	return nil
}

// newGenericSocket makes the socket, applies s's socket options and binds
// it to the bind option's address, if any.
func newGenericSocket(s address.Spec, domain, typ, proto int) (*os.File, error) {
	fd, err := unix.Socket(domain, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("socket:%d:%d:%d", domain, typ, proto))
	if err := fileSockopts(f, s); err != nil {
		f.Close()
		return nil, err
	}
	if b, ok := s.Opt("bind"); ok {
		sa, err := rawSockaddr(domain, b)
		if err == nil {
			err = control(f, func(fd int) error { return rawCall(unix.SYS_BIND, fd, sa) })
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("bind: %w", err)
		}
	}
	return f, nil
}

// dialGeneric is SOCKET-CONNECT: a stream socket connected to the address.
// The connect waits in Go's poller, so ctx ends it.
func dialGeneric(ctx context.Context, s address.Spec) (stream.Conn, error) {
	domain, typ, proto, sa, err := genericSocket(s)
	if err != nil {
		return nil, err
	}
	f, err := newGenericSocket(s, domain, typ, proto)
	if err != nil {
		return nil, err
	}
	err = control(f, func(fd int) error { return rawCall(unix.SYS_CONNECT, fd, sa) })
	if errors.Is(err, unix.EINPROGRESS) {
		err = waitConnected(ctx, f)
	}
	if err != nil {
		f.Close()
		return nil, &net.OpError{Op: "dial", Net: "socket", Err: os.NewSyscallError("connect", err)}
	}
	return streamFromFile(f)
}

// waitConnected waits until a non-blocking connect ends, and returns how.
func waitConnected(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		f.SetWriteDeadline(d) //nolint:errcheck // a file without deadlines waits for the kernel
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Now()) }) //nolint:errcheck
	defer stop()
	var serr error
	werr := rc.Write(func(fd uintptr) bool {
		n, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			serr = err
			return true
		}
		if n != 0 {
			serr = syscall.Errno(n)
			return true
		}
		// Some families (VSOCK) report writable before the connect ends:
		// it has ended when there is a peer.
		if _, err := unix.Getpeername(int(fd)); errors.Is(err, unix.ENOTCONN) {
			return false
		}
		return true
	})
	if werr != nil {
		return werr
	}
	return serr
}

// streamFromFile makes a conn of a connected stream socket: a *net.TCPConn
// or *net.UnixConn where Go knows the family, else a conn of its own.
func streamFromFile(f *os.File) (stream.Conn, error) {
	if c, err := net.FileConn(f); err == nil {
		f.Close()
		if sc, ok := c.(stream.Conn); ok {
			return sc, nil
		}
		c.Close()
		return nil, errors.New("the socket is not a stream")
	}
	return &rawStream{f: f}, nil
}

// rawStream is a stream socket of a family Go's net does not know.
type rawStream struct{ f *os.File }

func (c *rawStream) Read(p []byte) (int, error)  { return c.f.Read(p) }
func (c *rawStream) Write(p []byte) (int, error) { return c.f.Write(p) }
func (c *rawStream) Close() error                { return c.f.Close() }
func (c *rawStream) LocalAddr() net.Addr         { return nil }
func (c *rawStream) RemoteAddr() net.Addr        { return nil }
func (c *rawStream) CloseWrite() error {
	return control(c.f, func(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) })
}

// genericListener is SOCKET-LISTEN.
type genericListener struct {
	f    *os.File
	once sync.Once
}

func listenGeneric(s address.Spec) (Listener, error) {
	domain, typ, proto, sa, err := genericSocket(s)
	if err != nil {
		return nil, err
	}
	f, err := newGenericSocket(s, domain, typ, proto)
	if err != nil {
		return nil, err
	}
	backlog := unix.SOMAXCONN
	if v, ok := s.Opt("backlog"); ok {
		backlog, _ = strconv.Atoi(v) // validated by address.Parse
	}
	err = control(f, func(fd int) error {
		if err := rawCall(unix.SYS_BIND, fd, sa); err != nil {
			return os.NewSyscallError("bind", err)
		}
		return os.NewSyscallError("listen", unix.Listen(fd, backlog))
	})
	if err != nil {
		f.Close()
		return nil, &net.OpError{Op: "listen", Net: "socket", Err: err}
	}
	return &genericListener{f: f}, nil
}

// Accept waits in Go's poller for the next connection.
func (l *genericListener) Accept() (stream.Conn, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var aerr error
	if err := rc.Read(func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_ACCEPT4, fd, 0, 0, unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		nfd, aerr = int(r), nil
		if e != 0 {
			aerr = os.NewSyscallError("accept", e)
		}
		return true
	}); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return nil, net.ErrClosed
		}
		return nil, err
	}
	if aerr != nil {
		return nil, aerr
	}
	return streamFromFile(os.NewFile(uintptr(nfd), "accepted"))
}

func (l *genericListener) Close() error {
	var err error
	l.once.Do(func() { err = l.f.Close() })
	return err
}

func (l *genericListener) Addr() net.Addr { return nil }

// rawPacket is SOCKET-SENDTO, -DATAGRAM, -RECV and -RECVFROM: datagrams
// sent to one raw address (none for -RECV; the first sender's for
// -RECVFROM) and read from anyone.
type rawPacket struct {
	f         *os.File
	to        []byte
	replyFrom bool // -RECVFROM: answer the first sender
	nullEOF   bool
}

func openGenericPacket(s address.Spec) (stream.Conn, error) {
	domain, typ, proto, sa, err := genericSocket(s)
	if err != nil {
		return nil, err
	}
	switch s.Kind {
	case address.SocketRecv, address.SocketRecvfrom:
		s.Options = append(s.Options, address.Option{Name: "bind", Value: s.Args[len(s.Args)-1]})
		sa = nil
	}
	f, err := newGenericSocket(s, domain, typ, proto)
	if err != nil {
		return nil, err
	}
	return &rawPacket{f: f, to: sa, replyFrom: s.Kind == address.SocketRecvfrom, nullEOF: on(s, "null-eof")}, nil
}

func (c *rawPacket) Read(p []byte) (int, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	for {
		var n int
		var rerr error
		from := make([]byte, unix.SizeofSockaddrAny)
		fromLen := uint32(len(from))
		if err := rc.Read(func(fd uintptr) bool {
			var ptr unsafe.Pointer
			if len(p) > 0 {
				ptr = unsafe.Pointer(&p[0])
			}
			r, _, e := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(ptr), uintptr(len(p)), 0,
				uintptr(unsafe.Pointer(&from[0])), uintptr(unsafe.Pointer(&fromLen)))
			if e == unix.EAGAIN {
				return false
			}
			n, rerr = int(r), nil
			if e != 0 {
				rerr = os.NewSyscallError("recvfrom", e)
			}
			return true
		}); err != nil {
			return 0, err
		}
		if rerr != nil {
			return 0, rerr
		}
		if c.replyFrom && c.to == nil && fromLen > 0 {
			c.to = append([]byte(nil), from[:fromLen]...)
		}
		if n == 0 && !c.nullEOF {
			continue // socat skips empty datagrams unless null-eof
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (c *rawPacket) Write(p []byte) (int, error) {
	if c.to == nil {
		return 0, errReceiveOnly
	}
	rc, err := c.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		var ptr unsafe.Pointer
		if len(p) > 0 {
			ptr = unsafe.Pointer(&p[0])
		}
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, fd, uintptr(ptr), uintptr(len(p)), 0,
			uintptr(unsafe.Pointer(&c.to[0])), uintptr(len(c.to)))
		if e == unix.EAGAIN {
			return false
		}
		if e != 0 {
			werr = os.NewSyscallError("sendto", e)
		}
		return true
	}); err != nil {
		return 0, err
	}
	if werr != nil {
		return 0, werr
	}
	return len(p), nil
}

func (c *rawPacket) CloseWrite() error    { return nil }
func (c *rawPacket) Close() error         { return c.f.Close() }
func (c *rawPacket) LocalAddr() net.Addr  { return nil }
func (c *rawPacket) RemoteAddr() net.Addr { return nil }

// vsockSpec turns VSOCK-CONNECT:cid:port and VSOCK-LISTEN:port into the
// generic socket they are: AF_VSOCK with a struct sockaddr_vm (reserved,
// port, cid, zero), the listener's cid VMADDR_CID_ANY.
func vsockSpec(s address.Spec) (address.Spec, error) {
	cid, port := uint64(unix.VMADDR_CID_ANY), s.Arg(0)
	if s.Kind == address.VsockConnect {
		c, err := strconv.ParseUint(s.Arg(0), 10, 32)
		if err != nil {
			return s, fmt.Errorf("VSOCK cid %q is not a number", s.Arg(0))
		}
		cid, port = c, s.Arg(1)
	}
	p, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return s, fmt.Errorf("VSOCK port %q is not a number", port)
	}
	g := s
	g.Kind = address.SocketConnect
	if s.Kind == address.VsockListen {
		g.Kind = address.SocketListen
	}
	g.Args = []string{strconv.Itoa(unix.AF_VSOCK), "0", fmt.Sprintf("x0000 I%d I%d x00000000", p, cid)}
	return g, nil
}
