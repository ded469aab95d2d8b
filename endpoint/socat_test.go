//go:build linux

package endpoint_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/internal/testenv"
	"github.com/sockit/sockit/stream"
)

// fdOf returns the descriptor behind a conn, for getsockopt.
func fdOf(t *testing.T, c any) int {
	t.Helper()
	sc, ok := c.(syscall.Conn)
	if !ok {
		t.Fatalf("%T has no descriptor", c)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var fd int
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// TestSockoptTable: each of socat's int socket options reaches the
// socket: set through an address, read back with getsockopt.
func TestSockoptTable(t *testing.T) {
	ln := holdingListener(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	tests := []struct {
		opt         string
		level, name int
		want        int
	}{
		{"ip-ttl=33", unix.IPPROTO_IP, unix.IP_TTL, 33},
		{"ttl=17", unix.IPPROTO_IP, unix.IP_TTL, 17},
		{"ip-tos=16", unix.IPPROTO_IP, unix.IP_TOS, 16},
		{"tcp-cork", unix.IPPROTO_TCP, unix.TCP_CORK, 1},
		{"tcp-window-clamp=40000", unix.IPPROTO_TCP, unix.TCP_WINDOW_CLAMP, 40000},
		{"keepidle=77", unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 77},
		{"keepintvl=9", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 9},
		{"keepcnt=4", unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 4},
		{"tcp-syncnt=3", unix.IPPROTO_TCP, unix.TCP_SYNCNT, 3},
		{"tcp-linger2=5", unix.IPPROTO_TCP, unix.TCP_LINGER2, 5},
		{"so-priority=3", unix.SOL_SOCKET, unix.SO_PRIORITY, 3},
		{"so-oobinline", unix.SOL_SOCKET, unix.SO_OOBINLINE, 1},
		{"so-dontroute", unix.SOL_SOCKET, unix.SO_DONTROUTE, 1},
		{"so-rcvlowat=10", unix.SOL_SOCKET, unix.SO_RCVLOWAT, 10},
		{"setsockopt-int=1:15:1", unix.SOL_SOCKET, unix.SO_REUSEPORT, 1},
		{"setsockopt-bin=6:12:i1", unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1},
		{"so-keepalive", unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{"so-reuseaddr", unix.SOL_SOCKET, unix.SO_REUSEADDR, 1},
		{"tcp-nodelay=0", unix.IPPROTO_TCP, unix.TCP_NODELAY, 0},
	}
	for _, tt := range tests {
		c, err := endpoint.Dial(context.Background(), spec(t, "TCP4:127.0.0.1:"+port+","+tt.opt))
		if err != nil {
			t.Errorf("%s: %v", tt.opt, err)
			continue
		}
		got, err := unix.GetsockoptInt(fdOf(t, c), tt.level, tt.name)
		c.Close()
		if err != nil || got != tt.want {
			t.Errorf("%s: getsockopt = %d, %v; want %d", tt.opt, got, err, tt.want)
		}
	}
	// so-linger is a struct.
	c, err := endpoint.Dial(context.Background(), spec(t, "TCP4:127.0.0.1:"+port+",so-linger=7"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := unix.GetsockoptLinger(fdOf(t, c), unix.SOL_SOCKET, unix.SO_LINGER)
	c.Close()
	if err != nil || l.Onoff != 1 || l.Linger != 7 {
		t.Errorf("so-linger=7: %+v, %v", l, err)
	}
}

// TestSourcePort: sp and bind choose the local end of a connection.
func TestSourcePort(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// Below the ephemeral range: another test's client cannot take it
	// between now and the dial (it did once, in CI).
	sp := testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, opt := range []string{"sp=" + sp, "sourceport=" + sp, "bind=127.0.0.1:" + sp} {
		c, err := endpoint.Dial(context.Background(), spec(t, "TCP4:127.0.0.1:"+port+","+opt+",reuseaddr"))
		if err != nil {
			t.Fatalf("%s: %v", opt, err)
		}
		peer, _ := ln.Accept()
		if _, got, _ := net.SplitHostPort(peer.RemoteAddr().String()); got != sp {
			t.Errorf("%s: the server saw port %s", opt, got)
		}
		peer.Close()
		c.Close()
	}
	if os.Geteuid() == 0 {
		c, err := endpoint.Dial(context.Background(), spec(t, "TCP4:127.0.0.1:"+port+",lowport"))
		if err != nil {
			t.Fatalf("lowport: %v", err)
		}
		peer, _ := ln.Accept()
		_, got, _ := net.SplitHostPort(peer.RemoteAddr().String())
		if n, _ := strconv.Atoi(got); n < 640 || n > 1023 {
			t.Errorf("lowport: the server saw port %d", n)
		}
		peer.Close()
		c.Close()
	}
}

// TestReceiveOnly: UDP-RECV and UNIX-RECV take datagrams from anyone and
// send nothing; UDP-DATAGRAM sends to one address and hears anyone.
func TestReceiveOnly(t *testing.T) {
	ctx := context.Background()
	free, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(free.LocalAddr().String())
	free.Close()
	r, err := endpoint.Dial(ctx, spec(t, "UDP4-RECV:"+port+",bind=127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, msg := range []string{"from one ", "", "from another"} { // the empty datagram is skipped
		s, _ := net.Dial("udp4", "127.0.0.1:"+port)
		s.Write([]byte(msg))
		s.Close()
	}
	got := make([]byte, 0, 64)
	buf := make([]byte, 64)
	for len(got) < len("from one from another") {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "from one from another" {
		t.Errorf("UDP-RECV read %q", got)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Error("UDP-RECV sent a datagram")
	}

	path := filepath.Join(t.TempDir(), "recv.sock")
	u, err := endpoint.Dial(ctx, spec(t, "UNIX-RECV:"+path))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := net.Dial("unixgram", path)
	s.Write([]byte("over unix"))
	s.Close()
	n, err := u.Read(buf)
	if err != nil || string(buf[:n]) != "over unix" {
		t.Errorf("UNIX-RECV: %q, %v", buf[:n], err)
	}
	u.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("UNIX-RECV left %s behind", path)
	}

	peer, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	defer peer.Close()
	d, err := endpoint.Dial(ctx, spec(t, "UDP-DATAGRAM:"+peer.LocalAddr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.Write([]byte("to the peer"))
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to the peer" {
		t.Fatalf("UDP-DATAGRAM sent %q, %v", buf[:n], err)
	}
	other, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	defer other.Close()
	other.WriteTo([]byte("from a stranger"), from)
	n, err = d.Read(buf)
	if err != nil || string(buf[:n]) != "from a stranger" {
		t.Errorf("UDP-DATAGRAM read %q, %v", buf[:n], err)
	}
}

// TestDecorate: readbytes, shut-none, shut-close and cool-write.
func TestDecorate(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	c := endpoint.Decorate(pipeConn{a}, spec(t, "STDIO,readbytes=4,shut-none"))
	go b.Write([]byte("abcdefgh"))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "abcd" {
		t.Errorf("readbytes=4 read %q, %v", got, err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Errorf("shut-none: %v", err)
	}

	l, r := net.Pipe()
	c = endpoint.Decorate(pipeConn{l}, spec(t, "STDIO,shut-close"))
	c.CloseWrite()
	if _, err := r.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("shut-close: the peer read %v, want EOF", err)
	}

	x, y := net.Pipe()
	y.Close()
	c = endpoint.Decorate(epipeConn{pipeConn{x}}, spec(t, "STDIO,cool-write"))
	if _, err := c.Write([]byte("x")); err != io.ErrClosedPipe {
		t.Errorf("cool-write: %v, want io.ErrClosedPipe", err)
	}
}

type pipeConn struct{ net.Conn }

func (p pipeConn) CloseWrite() error { return p.Close() }

// epipeConn fails every write as a socket whose peer is gone does.
type epipeConn struct{ pipeConn }

func (epipeConn) Write([]byte) (int, error) {
	return 0, &net.OpError{Op: "write", Err: os.NewSyscallError("write", syscall.EPIPE)}
}

// TestFD: FD:n takes over an inherited descriptor: a socket stays a
// socket (half-close works), a pipe's write end is closed at EOF.
func TestFD(t *testing.T) {
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	fd, _ := unix.Dup(int(pw.Fd()))
	pw.Close()
	c, err := endpoint.Dial(context.Background(), spec(t, strconv.Itoa(fd)))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("through fd"))
	c.CloseWrite()
	got, _ := io.ReadAll(pr)
	if string(got) != "through fd" {
		t.Errorf("FD read back %q", got)
	}
	c.Close()

	pair, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	c, err = endpoint.Dial(context.Background(), spec(t, "FD:"+strconv.Itoa(pair[0])))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*net.UnixConn); !ok {
		t.Errorf("FD of a socket is %T, want *net.UnixConn", c)
	}
	other := os.NewFile(uintptr(pair[1]), "peer")
	defer other.Close()
	c.Write([]byte("half"))
	c.CloseWrite()
	got, _ = io.ReadAll(other)
	if !bytes.Equal(got, []byte("half")) {
		t.Errorf("FD socket: %q", got)
	}
	c.Close()
}

// TestDualSpec: A!!B reads A and writes B.
func TestDualSpec(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("from the read half"), 0o644)
	out := filepath.Join(dir, "out")
	c, err := endpoint.Dial(context.Background(), spec(t, "OPEN:"+in+"!!CREATE:"+out))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*stream.Dual); !ok {
		t.Fatalf("dual spec opened as %T", c)
	}
	got, _ := io.ReadAll(c)
	c.Write([]byte("to the write half"))
	c.Close()
	written, _ := os.ReadFile(out)
	if string(got) != "from the read half" || string(written) != "to the write half" {
		t.Errorf("read %q, wrote %q", got, written)
	}
}

var _ = address.Parse
