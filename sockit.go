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
//	err = sockit.Forward(ctx, "TCP-LISTEN:8080,fork", "TCP:db:5432", sockit.ForwardOptions{})
//
// Every Conn can be half-closed (CloseWrite), and Relay copies both ways
// with the kernel's splice and sendfile paths where they apply.
package sockit

import (
	"context"
	"fmt"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/capture"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/serve"
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

// ForwardOptions tune Forward. The zero value relays with the kernel's
// paths and tells nothing.
type ForwardOptions struct {
	// Events, if set, hears every state change of every session:
	// listening, accepted, connected, first bytes, half-closes, closed
	// with its counts (see package events; events.NewEncoder writes
	// them as NDJSON). An events.Tap among them (package tap has the
	// peers' logs: socat's -v, ncat's -x) sees the bytes too, which then
	// pass through user space.
	Events events.Observer
	// Capture, if set, records every session as pcapng (see package
	// capture).
	Capture *capture.Writer
	// Idle ends a session when no byte has moved either way for this
	// long; 0 is never.
	Idle time.Duration
	// Loop moves plain sockets from one epoll loop of the relay's own
	// (see relay.Options.Loop): for a program that is mostly a relay.
	Loop bool
}

// Forward relays between two addresses as `sockit relay A B` does, which
// is socat's A B: "TCP-LISTEN:8080,fork" and "TCP:db:5432" serve every
// client of port 8080 with a connection of its own to db:5432, until ctx
// ends. Without fork, the first client's session is the only one, and
// Forward returns when it ends. Either address may be anything Dial and
// Listen take, an EXEC or SYSTEM command included.
func Forward(ctx context.Context, a, b string, opt ForwardOptions) error {
	sa, err := address.Parse(a)
	if err != nil {
		return err
	}
	sb, err := address.Parse(b)
	if err != nil {
		return err
	}
	rl := &serve.Relay{A: sa, B: sb, Options: relay.Options{Idle: opt.Idle, Loop: opt.Loop}}
	if opt.Events != nil || opt.Capture != nil {
		rl.Watch = &serve.Watch{Events: opt.Events, Capture: opt.Capture}
	}
	if err := rl.Run(ctx); err != nil && ctx.Err() == nil {
		return fmt.Errorf("forward %s %s: %w", a, b, err)
	}
	return nil
}
