// Package endpoint opens what an address.Spec names: Dial connects,
// Listen binds and accepts, and every result is a stream.Conn. One file per
// kind of endpoint; it never copies data (that is package relay's job).
package endpoint

import (
	"context"
	"fmt"
	"net"
	"strconv"
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

// Dial connects to the endpoint s names.
func Dial(ctx context.Context, s address.Spec) (stream.Conn, error) {
	if v, ok := s.Opt("connect-timeout"); ok {
		d, err := time.ParseDuration(v + "s")
		if err != nil {
			return nil, fmt.Errorf("connect-timeout %q: bad value", v)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	switch s.Kind {
	case address.TCP:
		return dialTCP(ctx, s)
	case address.UDP:
		return dialUDP(ctx, s)
	case address.UnixConnect:
		return dialUnix(ctx, s)
	case address.UnixSendto:
		return dialUnixgram(s)
	}
	return nil, fmt.Errorf("%s: cannot be dialled", s.Kind)
}

// Listen binds the endpoint s names.
func Listen(ctx context.Context, s address.Spec) (Listener, error) {
	switch s.Kind {
	case address.TCPListen:
		return listenTCP(ctx, s)
	case address.UDPListen:
		return listenUDP(s)
	case address.UnixListen:
		return listenUnix(ctx, s)
	case address.UnixRecvfrom:
		return listenUnixgram(s)
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
