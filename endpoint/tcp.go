package endpoint

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

func dialTCP(ctx context.Context, s address.Spec) (stream.Conn, error) {
	addr, err := hostPort(s.Arg(0), s.Arg(1))
	if err != nil {
		return nil, err
	}
	if _, ok := s.Opt("via"); ok {
		return dialVia(ctx, s, strings.Trim(s.Arg(0), "[]"), s.Arg(1))
	}
	network := ipNetwork("tcp", s)
	d := net.Dialer{Control: sockopts(s), KeepAlive: keepAlive(s)}
	if b, ok := s.Opt("bind"); ok {
		la, err := net.ResolveTCPAddr(network, b)
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", b, err)
		}
		d.LocalAddr = la
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	if v, ok := s.Opt("nodelay"); ok && v == "0" {
		tc.SetNoDelay(false) //nolint:errcheck // best effort, as socat
	}
	return tc, nil
}

// keepAlive maps the keepalive option to net's field: on with Go's
// defaults when set, off otherwise (socat leaves SO_KEEPALIVE off).
func keepAlive(s address.Spec) time.Duration {
	if on(s, "keepalive") {
		return 0
	}
	return -1
}

// tcpListener adapts *net.TCPListener to Listener.
type tcpListener struct{ *net.TCPListener }

func (l tcpListener) Accept() (stream.Conn, error) { return l.AcceptTCP() }

func listenTCP(ctx context.Context, s address.Spec) (Listener, error) {
	host, _ := s.Opt("bind")
	addr, err := hostPort(host, s.Arg(0))
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: sockopts(s), KeepAlive: keepAlive(s)}
	lc.SetMultipathTCP(false)
	ln, err := lc.Listen(ctx, ipNetwork("tcp", s), addr)
	if err != nil {
		return nil, err
	}
	tl := ln.(*net.TCPListener)
	if err := setBacklog(tl, s); err != nil {
		tl.Close()
		return nil, err
	}
	return tcpListener{tl}, nil
}

// setBacklog calls listen(2) again with the backlog option: Go always uses
// the system's maximum, and Linux accepts a second listen on a live socket.
func setBacklog(l syscall.Conn, s address.Spec) error {
	v, ok := s.Opt("backlog")
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return fmt.Errorf("invalid backlog %q", v)
	}
	rc, err := l.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), n) }); err != nil {
		return err
	}
	return lerr
}
