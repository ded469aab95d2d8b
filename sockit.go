// Package sockit is the library face of the sockit socket toolkit: the
// same address strings as the sockit command (socat's syntax) open
// connections, listeners and relays in one line.
//
// Typical usage:
//
//	ln, err := sockit.Listen(ctx, "TCP-LISTEN:8001,bind=127.0.0.1")
//	conn, err := ln.Accept()
//	...
//	c, err := sockit.Dial(ctx, "TCP:127.0.0.1:8001")
//	stats, err := sockit.Relay(ctx, a, b)
//
// Every Conn can be half-closed (CloseWrite), and Relay copies both ways
// with the kernel's splice and sendfile paths where they apply.
package sockit

import (
	"context"
	"fmt"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// Conn is a bidirectional byte stream with half-close.
type Conn = stream.Conn

// Listener accepts Conns.
type Listener = endpoint.Listener

// Dial connects to the address spec, such as "TCP:db:5432" or
// "UNIX-CONNECT:/run/x.sock".
func Dial(ctx context.Context, spec string) (Conn, error) {
	s, err := address.Parse(spec)
	if err != nil {
		return nil, err
	}
	c, err := endpoint.Dial(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", spec, err)
	}
	return c, nil
}

// Listen binds the address spec, such as "TCP-LISTEN:8001" or
// "UNIX-LISTEN:/run/x.sock".
func Listen(ctx context.Context, spec string) (Listener, error) {
	s, err := address.Parse(spec)
	if err != nil {
		return nil, err
	}
	l, err := endpoint.Listen(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", spec, err)
	}
	return l, nil
}

// Relay copies between a and b both ways until both directions reach EOF,
// half-closing each side as its input ends, then closes both.
func Relay(ctx context.Context, a, b Conn) (relay.Stats, error) {
	return relay.Join(ctx, a, b, relay.Options{})
}
