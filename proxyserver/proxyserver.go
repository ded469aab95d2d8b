// Package proxyserver serves HTTP proxies (CONNECT tunnels and forwarded
// http:// requests, RFC 9110/9112, as ncat's --proxy-type http) and SOCKS5
// (CONNECT), with optional credentials (HTTP Basic and Digest, SOCKS5
// user/password) and a deadline on the handshake, so that a silent or
// hostile client cannot hold a slot. A tunnel is relay.Join.
package proxyserver

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// DefaultHandshake bounds a client's handshake when Server.Handshake is 0.
const DefaultHandshake = 30 * time.Second

// Server is one proxy configuration.
type Server struct {
	// Type is "http" or "socks5".
	Type string
	// Auth, when set as "user:password", is required from every client
	// (HTTP Basic or Digest via Proxy-Authorization, or SOCKS5
	// user/password).
	Auth string
	// Realm names the HTTP protection space in challenges; "" is "sockit".
	Realm string
	// Methods lists the HTTP methods forwarded besides CONNECT; others get
	// 405. nil allows RFC 9110's methods and PATCH.
	Methods []string
	// Network is the upstream's network: "tcp" (either family, the
	// default), "tcp4" or "tcp6". A target only reachable in a forbidden
	// family gets 504 (HTTP) or "address type not supported" (SOCKS5).
	Network string
	// Handshake bounds the time from accept to an open tunnel.
	Handshake time.Duration
	// Idle ends a tunnel with no traffic for this long; 0: never.
	Idle time.Duration
	// Dial opens the upstream connection; nil uses net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logf, if set, receives one line per refused or failed client.
	Logf func(format string, a ...any)

	nonces nonceBook // Digest nonces issued and seen
}

// Serve runs the proxy protocol on c and then the tunnel, until both
// ends are done. It closes c.
func (s *Server) Serve(ctx context.Context, c net.Conn) error {
	defer c.Close()
	// A client still in its handshake is cut off when ctx ends (a
	// signal), as the relay that follows it would be.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	hs := s.Handshake
	if hs <= 0 {
		hs = DefaultHandshake
	}
	deadline := time.Now().Add(hs)
	c.SetDeadline(deadline)
	var err error
	switch s.Type {
	case "http":
		err = s.serveHTTP(ctx, c, deadline)
	case "socks5":
		var up net.Conn
		if up, err = s.socks5(ctx, c); err == nil {
			err = s.tunnel(ctx, c, up)
		}
	default:
		err = fmt.Errorf("unknown proxy type %q", s.Type)
	}
	if err != nil {
		s.logf("proxy client %s: %v", c.RemoteAddr(), err)
	}
	return err
}

// tunnel joins the client with the upstream until both are done.
func (s *Server) tunnel(ctx context.Context, c, up net.Conn) error {
	c.SetDeadline(time.Time{})
	_, err := relay.Join(ctx, asStream(c), asStream(up), relay.Options{Idle: s.Idle})
	return err
}

// asStream returns c as a stream.Conn; a conn without CloseWrite gets a
// no-op one (its peer then sees the end only when the tunnel closes).
func asStream(c net.Conn) stream.Conn {
	if sc, ok := c.(stream.Conn); ok {
		return sc
	}
	return noHalfClose{c}
}

type noHalfClose struct{ net.Conn }

func (noHalfClose) CloseWrite() error { return nil }

func (s *Server) logf(format string, a ...any) {
	if s.Logf != nil {
		s.Logf(format, a...)
	}
}

func (s *Server) network() string {
	if s.Network == "" {
		return "tcp"
	}
	return s.Network
}

func (s *Server) dial(ctx context.Context, addr string) (net.Conn, error) {
	if s.Dial != nil {
		return s.Dial(ctx, s.network(), addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, s.network(), addr)
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
