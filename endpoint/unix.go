package endpoint

import (
	"context"
	"net"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// unixPath returns the socket path, with Linux's "@" prefix for the
// abstract namespace.
func unixPath(s address.Spec) string {
	p := s.Arg(0)
	if _, ok := s.Opt("abstract"); ok && (p == "" || p[0] != '@') {
		return "@" + p
	}
	return p
}

func dialUnix(ctx context.Context, s address.Spec) (stream.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", unixPath(s))
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// unixListener adapts *net.UnixListener to Listener.
type unixListener struct{ *net.UnixListener }

func (l unixListener) Accept() (stream.Conn, error) { return l.AcceptUnix() }

func listenUnix(ctx context.Context, s address.Spec) (Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "unix", unixPath(s))
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	if err := setBacklog(ul, s); err != nil {
		ul.Close()
		return nil, err
	}
	return unixListener{ul}, nil
}
