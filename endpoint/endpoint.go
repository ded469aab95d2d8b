// Package endpoint opens what an address.Spec names: Dial connects,
// Listen binds and accepts, and every result is a stream.Conn. One file per
// kind of endpoint; it never copies data (that is package relay's job).
package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// Listener accepts stream.Conns.
type Listener interface {
	Accept() (stream.Conn, error)
	Close() error
	Addr() net.Addr
}

// Dial connects to the endpoint s names. Files, pipes and commands open
// at once; sockets honour connect-timeout (per attempt), retry, forever
// and interval.
func Dial(ctx context.Context, s address.Spec) (stream.Conn, error) {
	if s.Writer != nil {
		return dialDual(ctx, s)
	}
	return OpenWith(ctx, s, func(ctx context.Context) (stream.Conn, error) { return dial(ctx, s) })
}

// OpenWith opens s with open, under the options every address takes:
// lockfile and waitlock are held while the conn is open, and Decorate's
// options are applied. Callers that open an address their own way (the
// CLI's stdio) use it to honour them too.
func OpenWith(ctx context.Context, s address.Spec, open func(context.Context) (stream.Conn, error)) (stream.Conn, error) {
	var unlock func()
	for _, name := range []string{"lockfile", "waitlock"} {
		if path, ok := s.Opt(name); ok {
			u, err := TakeLock(ctx, path, name == "waitlock")
			if err != nil {
				return nil, err
			}
			unlock = u
		}
	}
	c, err := open(ctx)
	if err != nil {
		if unlock != nil {
			unlock()
		}
		return nil, err
	}
	c = Decorate(c, s)
	if unlock != nil {
		return &unlocking{Conn: c, unlock: unlock}, nil
	}
	return c, nil
}

// unlocking removes a lock file when its conn is closed.
type unlocking struct {
	stream.Conn
	unlock func()
	once   sync.Once
}

func (u *unlocking) Close() error {
	err := u.Conn.Close()
	u.once.Do(u.unlock)
	return err
}

func dial(ctx context.Context, s address.Spec) (stream.Conn, error) {
	var dial func(context.Context) (stream.Conn, error)
	switch s.Kind {
	case address.TCP:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialTCP(ctx, s) }
	case address.OpenSSL:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialTLS(ctx, s) }
	case address.Socks4, address.Socks4A, address.Socks5, address.Proxy:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialProxy(ctx, s) }
	case address.UDP, address.UDPSendto:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialUDP(ctx, s) }
	case address.UnixConnect:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialUnix(ctx, s) }
	case address.UnixSendto:
		dial = func(context.Context) (stream.Conn, error) { return dialUnixgram(s) }
	case address.UnixClient:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialUnixClient(ctx, s) }
	case address.UDPRecv, address.UDPDatagram, address.UnixRecv, address.IPSendto, address.IPDatagram, address.IPRecv:
		return openPacket(ctx, s)
	case address.FD:
		return openFD(s)
	case address.Interface:
		return openInterface(s)
	case address.TUN:
		return openTUN(s)
	case address.SocketConnect:
		dial = func(ctx context.Context) (stream.Conn, error) { return dialGeneric(ctx, s) }
	case address.VsockConnect:
		g, err := vsockSpec(s)
		if err != nil {
			return nil, err
		}
		dial = func(ctx context.Context) (stream.Conn, error) { return dialGeneric(ctx, g) }
	case address.SocketSendto, address.SocketDatagram, address.SocketRecv, address.SocketRecvfrom:
		return openGenericPacket(s)
	case address.TCPListen, address.UDPListen, address.UDPRecvfrom, address.UnixListen, address.UnixRecvfrom,
		address.OpenSSLListen, address.IPRecvfrom, address.SocketListen, address.VsockListen:
		return acceptOne(ctx, s)
	case address.Stdio, address.Stdin, address.Stdout:
		return StdioFor(s.Kind, os.Stdin, os.Stdout), nil
	case address.Stderr:
		return StdioFor(address.Stdout, nil, os.Stderr), nil
	case address.File, address.Create, address.Gopen, address.Pipe:
		return openFile(ctx, s)
	case address.Exec, address.System:
		return CommandFor(s).Open(ctx)
	case address.PTY:
		return openPTYAddress(ctx, s)
	default:
		return nil, fmt.Errorf("%s: cannot be dialled", s.Kind)
	}
	if v, ok := s.Opt("connect-timeout"); ok {
		d, err := address.ParseSeconds(v)
		if err != nil {
			return nil, fmt.Errorf("connect-timeout %q: %w", v, err)
		}
		once := dial
		dial = func(ctx context.Context) (stream.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return once(ctx)
		}
	}
	return withRetry(ctx, s, dial)
}

// acceptOne is a listening address opened as a conn (socat's second
// listener, as in "TCP-LISTEN:1 TCP-LISTEN:2"): it listens, takes the
// first peer, and stops listening. ctx ending stops the wait.
func acceptOne(ctx context.Context, s address.Spec) (stream.Conn, error) {
	ln, err := Listen(ctx, s)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	c, err := ln.Accept()
	if err != nil {
		ln.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if _, datagram := c.(*datagramConn); !datagram {
		ln.Close() // a datagram conn shares the listener's socket, which its Close closes
	}
	return c, nil
}

// dialDual opens both halves of socat's "A!!B": A to read, B to write.
func dialDual(ctx context.Context, s address.Spec) (stream.Conn, error) {
	w := *s.Writer
	s.Writer = nil
	r, err := Dial(ctx, ForReading(s))
	if err != nil {
		return nil, err
	}
	wc, err := Dial(ctx, ForWriting(w))
	if err != nil {
		r.Close()
		return nil, err
	}
	return &stream.Dual{R: r, W: wc}, nil
}

// Listen binds the endpoint s names. With the range option, peers
// outside the prefix are closed before a byte is read.
func Listen(ctx context.Context, s address.Spec) (Listener, error) {
	ln, err := listen(ctx, s)
	if err != nil {
		return nil, err
	}
	if decorates(s) {
		ln = &decoratingListener{Listener: ln, s: s}
	}
	if v, ok := s.Opt("accept-timeout"); ok {
		d, _ := address.ParseSeconds(v) // validated by address.Parse
		ln = &timedListener{Listener: ln, d: d}
	}
	if v, ok := s.Opt("range"); ok {
		prefix, err := parseRange(ctx, v)
		if err != nil {
			ln.Close()
			return nil, err
		}
		return &rangeListener{Listener: ln, prefix: prefix}, nil
	}
	return ln, nil
}

// timedListener is accept-timeout: an Accept that waits longer fails,
// and closes the listener, as socat ends.
type timedListener struct {
	Listener
	d time.Duration
}

// ErrAcceptTimeout is what Accept gives when accept-timeout ran out.
var ErrAcceptTimeout = errors.New("accept-timeout: no peer came in time")

func (l *timedListener) Accept() (stream.Conn, error) {
	t := time.AfterFunc(l.d, func() { l.Listener.Close() })
	c, err := l.Listener.Accept()
	if !t.Stop() {
		if err == nil {
			c.Close()
		}
		return nil, ErrAcceptTimeout
	}
	return c, err
}

// decoratingListener applies Decorate's options to every accepted conn.
type decoratingListener struct {
	Listener
	s address.Spec
}

func (l *decoratingListener) Accept() (stream.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return Decorate(c, l.s), nil
}

// rangeListener accepts only peers whose address is in prefix.
type rangeListener struct {
	Listener
	prefix netip.Prefix
}

func (l *rangeListener) Accept() (stream.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ap, err := netip.ParseAddrPort(Addr(c.RemoteAddr())); err == nil && l.prefix.Contains(ap.Addr().Unmap()) {
			return c, nil
		}
		c.Close()
	}
}

func listen(ctx context.Context, s address.Spec) (Listener, error) {
	switch s.Kind {
	case address.TCPListen:
		return listenTCP(ctx, s)
	case address.OpenSSLListen:
		return listenTLS(ctx, s)
	case address.UDPListen, address.UDPRecvfrom:
		return listenUDP(s)
	case address.UnixListen:
		return listenUnix(ctx, s)
	case address.UnixRecvfrom:
		return listenUnixgram(s)
	case address.IPRecvfrom:
		return listenIPRecvfrom(s)
	case address.SocketListen:
		return listenGeneric(s)
	case address.VsockListen:
		g, err := vsockSpec(s)
		if err != nil {
			return nil, err
		}
		return listenGeneric(g)
	}
	return nil, fmt.Errorf("%s: cannot listen", s.Kind)
}

// ipNetwork returns "tcp", "tcp4" or "tcp6" (or udp) from the pf option.
func ipNetwork(base string, s address.Spec) string {
	switch v, _ := s.Opt("pf"); v {
	case "ip4", "4", "inet":
		return base + "4"
	case "ip6", "6", "inet6":
		return base + "6"
	}
	return base
}

// hostPort joins a host (possibly a bracketed IPv6 literal) and a port.
func hostPort(host, port string) (string, error) {
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	if err := checkPort(port); err != nil {
		return "", err
	}
	return net.JoinHostPort(host, port), nil
}

func checkPort(port string) error {
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port number %q", port)
	}
	return nil
}

// Addr returns the address string of a net.Addr, "" for nil.
func Addr(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
