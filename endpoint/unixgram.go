package endpoint

import (
	"net"
	"os"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// dialUnixgram binds a temporary path (so the server can answer, as ncat
// does) and connects it to the server's path.
func dialUnixgram(s address.Spec) (stream.Conn, error) {
	local, err := tempSocketPath()
	if b, ok := s.Opt("bind"); ok {
		local, err = b, nil // socat's bind: the client's own path
	}
	if err != nil {
		return nil, err
	}
	c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"},
		&net.UnixAddr{Name: unixPath(s), Net: "unixgram"})
	if err != nil {
		os.Remove(local)
		return nil, err
	}
	return &datagramConn{packetSocket: c, onClose: func() { os.Remove(local) }, skipEmpty: skipsEmpty(s)}, nil
}

func listenUnixgram(s address.Spec) (Listener, error) {
	path := unixPath(s)
	if err := unlinkEarly(s, path); err != nil {
		return nil, err
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	if err := setMode(s, path); err != nil {
		c.Close()
		return nil, err
	}
	cleanup := func() {}
	if v, ok := s.Opt("unlink-close"); path != "" && path[0] != '@' && (!ok || v != "0") {
		cleanup = func() { os.Remove(path) }
	}
	readFrom := func(b []byte) (int, net.Addr, error) {
		n, a, err := c.ReadFromUnix(b)
		if a == nil || a.Name == "" {
			return n, nil, err // an unnamed socket: no address to answer to
		}
		return n, a, err
	}
	if skipsEmpty(s) {
		readFrom = skipEmpties(readFrom)
	}
	if _, fork := s.Opt("fork"); fork {
		return newPeerListener(c, readFrom, func(b []byte, to net.Addr) (int, error) {
			return c.WriteTo(b, to)
		}, cleanup), nil
	}
	l := newFirstPeerListener(c, readFrom, cleanup)
	l.skipEmpty = skipsEmpty(s)
	return l, nil
}
