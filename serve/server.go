package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/hub"
	"github.com/sockit/sockit/proxyserver"
	"github.com/sockit/sockit/stream"
)

// Server serves every connection a listener accepts until ctx ends, as
// ncat's -k does (or, with Once, its first): each by Handle (a command
// per client, or the program's stdio), or through a proxy
// server (Proxy), or in a room (Hub, the broker and chat), or, with none
// of these, with stdin fanned out to every client and what each sends
// copied to stdout.
type Server struct {
	// MaxConns bounds the clients served at once: more are refused. 0
	// is no limit, unless RefuseAll (ncat's -m 0 lets nobody in).
	MaxConns  int
	RefuseAll bool
	// Once serves the first client only, in Serve's own goroutine, and
	// returns Handle's error; the listener is closed as it accepts (a
	// netcat listener without -k).
	Once bool
	// Access, if restricted, turns away the clients it does not allow;
	// Denied hears of each.
	Access *endpoint.Access
	Denied func(peer net.Addr)
	// Handle, if set, serves each connection (a command per client, or
	// with Once the program's stdio); f tells its events.
	Handle func(ctx context.Context, c stream.Conn, f *Session) error
	Proxy  *proxyserver.Server
	Hub    *hub.Hub
	// Stdin and Stdout are the fan-out's: stdin goes to every client
	// connected when it is read, and what clients send goes to stdout.
	// NoShutdown keeps clients' write halves open at stdin's EOF.
	Stdin      io.Reader
	Stdout     io.Writer
	NoShutdown bool
	// Accepted, if set, hears of each client let in; Refused of each
	// turned away at the limit; Full of the process running out of
	// descriptors (the client waits in the kernel's queue).
	Accepted func(c stream.Conn)
	Refused  func(c stream.Conn, why string)
	Full     func(err error)
	Watch    *Watch
}

// Serve accepts on ln until ctx ends or ln is closed, and waits for the
// sessions it started.
func (sv *Server) Serve(ctx context.Context, ln endpoint.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var slots chan struct{} // nil: no limit
	if sv.MaxConns > 0 || sv.RefuseAll {
		slots = make(chan struct{}, max(sv.MaxConns, 0))
	}
	if sv.Access != nil && sv.Access.Restricted() {
		ln = endpoint.Guard(ln, sv.Access, func(peer net.Addr) {
			if sv.Denied != nil {
				sv.Denied(peer)
			}
			sv.Watch.Refused(ln.Addr(), peer, "not allowed")
		})
	}
	accepted := func(c stream.Conn) {
		if sv.Accepted != nil {
			sv.Accepted(c)
		}
	}
	if sv.Once {
		if sv.Handle == nil {
			return errors.New("serve: a Server with Once needs a Handle")
		}
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		ln.Close()
		accepted(conn)
		f := sv.Watch.Session(conn, true, "")
		f.Accepted(conn)
		return sv.Handle(ctx, conn, f)
	}
	var fan *fanout
	if sv.Handle == nil && sv.Proxy == nil && sv.Hub == nil {
		fan = newFanout(sv.Stdout, sv.NoShutdown, sv.Watch.RoomTap())
		go fan.readFrom(sv.Stdin)
		defer fan.closeAll()
	}
	for {
		conn, err := Accept(ctx, ln, func(err error) {
			if sv.Full != nil {
				sv.Full(err)
			}
		})
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			default:
				why := fmt.Sprintf("connection limit reached (%d)", sv.MaxConns)
				if sv.Refused != nil {
					sv.Refused(conn, why)
				}
				sv.Watch.Refused(ln.Addr(), conn.RemoteAddr(), why)
				conn.Close()
				continue
			}
		}
		f := sv.Watch.Session(conn, true, "")
		fanConn, fanDone := conn, func(error) {}
		if fan != nil {
			if f != nil && (sv.Watch.Capture != nil || sv.Watch.Taps()) {
				fanConn, fanDone = f.counted(conn, false) // captured or tapped: its one leg, as a room's client; stdin is tapped once, by the fan-out
			}
			fan.add(fanConn) // before the log line: a client logged is a client served
		}
		if sv.Hub != nil {
			// The hub owns conn now and reads it without a goroutine
			// (unless it is counted for events: then with one).
			counted, done := f.counted(conn, false) // its broadcasts are tapped once, by Watch.RoomTap
			left := func(err error) {
				if slots != nil {
					<-slots
				}
				done(err)
			}
			f.Accepted(conn)
			if err := sv.Hub.Join(counted, left); err != nil {
				left(err)
			}
			accepted(conn)
			continue
		}
		accepted(conn)
		f.Accepted(conn)
		wg.Go(func() {
			if slots != nil {
				defer func() { <-slots }()
			}
			switch {
			case sv.Proxy != nil:
				counted, done := f.Counted(conn)
				if nc, ok := counted.(net.Conn); ok {
					done(sv.Proxy.Serve(ctx, nc)) // per-client; logged by Serve
				} else {
					conn.Close()
				}
			case sv.Handle != nil:
				sv.Handle(ctx, conn, f) //nolint:errcheck // per-client; told by the handler

			default:
				st := fan.serve(fanConn)
				if fanConn != conn {
					fanDone(nil) // the counted conn tells the close, with its counts
				} else {
					f.Closed(st, true, nil)
				}
			}
		})
	}
}
