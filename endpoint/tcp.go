package endpoint

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	c, err := dialFrom(ctx, &d, s, network, addr, func(host string, port int) (net.Addr, error) {
		if host == "" && port == 0 {
			return nil, nil
		}
		la, err := net.ResolveTCPAddr(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", host, err)
		}
		return la, nil
	})
	if err != nil {
		return nil, err
	}
	tc := c.(*net.TCPConn)
	if v, ok := s.Opt("nodelay"); ok && v == "0" {
		tc.SetNoDelay(false) //nolint:errcheck // best effort, as socat
	}
	return tc, nil
}

// dialFrom dials with the local address the bind, sourceport and lowport
// options ask for. lowport tries the ports from 640 to 1023 in a random
// order until one is free, as socat does.
func dialFrom(ctx context.Context, d *net.Dialer, s address.Spec, network, addr string,
	local func(host string, port int) (net.Addr, error)) (net.Conn, error) {
	host, port := "", 0
	if b, ok := s.Opt("bind"); ok {
		h, p, err := net.SplitHostPort(b)
		if err != nil {
			h = strings.Trim(b, "[]") // a host alone
		} else if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("bind %s: bad port", b)
		}
		host = h
	}
	if v, ok := s.Opt("sourceport"); ok {
		port, _ = strconv.Atoi(v) // validated by address.Parse
	}
	if !on(s, "lowport") {
		la, err := local(host, port)
		if err != nil {
			return nil, err
		}
		d.LocalAddr = la
		return d.DialContext(ctx, network, addr)
	}
	var last error
	for _, p := range rand.Perm(1024 - 640) {
		la, err := local(host, 640+p)
		if err != nil {
			return nil, err
		}
		d.LocalAddr = la
		c, err := d.DialContext(ctx, network, addr)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			return c, err
		}
		last = err
	}
	return nil, fmt.Errorf("lowport: no free port from 640 to 1023: %w", last)
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
	host, err := listenHost(ctx, ipNetwork("tcp", s), host)
	if err != nil {
		return nil, err
	}
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

// listenHost picks the address a listener given a host name binds: the
// first of the resolver's answer, in the order a client's dial tries them
// (RFC 6724: ::1 before 127.0.0.1 for localhost), so that a UDP client,
// which cannot fall back, meets the listener by the same name. Go's own
// Listen would take the first IPv4 address instead. ncat does the same.
func listenHost(ctx context.Context, network, host string) (string, error) {
	h := strings.Trim(host, "[]")
	if h == "" {
		return host, nil
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return host, nil
	}
	ipNet := "ip" + strings.TrimLeft(network, "tcpud")
	ips, err := net.DefaultResolver.LookupNetIP(ctx, ipNet, h)
	if err != nil {
		return "", err
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("%s: no address", h)
	}
	return ips[0].Unmap().String(), nil
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
	if err := rc.Control(func(fd uintptr) { lerr = relisten(fd, n) }); err != nil {
		return err
	}
	return lerr
}
