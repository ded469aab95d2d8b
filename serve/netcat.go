package serve

import (
	"context"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// Dial connects to sp for a netcat-style session, telling w of the
// attempt (proto is "tcp", "udp" or "unix"; shown the address as the
// user gave it) and of its outcome. The Session it returns tells the
// rest.
func Dial(ctx context.Context, sp address.Spec, proto, shown string, w *Watch) (stream.Conn, *Session, error) {
	uid := w.Connecting(proto, shown)
	conn, err := endpoint.Dial(ctx, sp)
	if err != nil {
		w.DialFailed(uid, proto, shown, err)
		return nil, nil, err
	}
	f := w.Session(conn, false, uid)
	f.Connected(conn)
	return conn, f, nil
}

// Join joins a network conn with the program's own streams (stdio),
// as a netcat session does, and tells f of it: the capture's two sides
// are stdio and the network (described by network).
func Join(ctx context.Context, conn, stdio stream.Conn, opt relay.Options, f *Session, network string) (relay.Stats, error) {
	return f.Join(ctx, stdio, conn, opt, Side{Name: "stdio", Description: "stdin and stdout"}, Side{Name: "network", Description: network}, true)
}
