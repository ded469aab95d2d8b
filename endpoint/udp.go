package endpoint

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

func dialUDP(ctx context.Context, s address.Spec) (stream.Conn, error) {
	addr, err := hostPort(s.Arg(0), s.Arg(1))
	if err != nil {
		return nil, err
	}
	network := ipNetwork("udp", s)
	d := net.Dialer{Control: sockopts(s)}
	c, err := dialFrom(ctx, &d, s, network, addr, func(host string, port int) (net.Addr, error) {
		if host == "" && port == 0 {
			return nil, nil
		}
		la, err := net.ResolveUDPAddr(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", host, err)
		}
		return la, nil
	})
	if err != nil {
		return nil, err
	}
	return &datagramConn{packetSocket: c.(*net.UDPConn), skipEmpty: skipsEmpty(s)}, nil
}

func listenUDP(s address.Spec) (Listener, error) {
	network := ipNetwork("udp", s)
	host, _ := s.Opt("bind")
	host, err := listenHost(context.Background(), network, host)
	if err != nil {
		return nil, err
	}
	addr, err := hostPort(host, s.Arg(0))
	if err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: sockopts(s)}
	pc, err := lc.ListenPacket(context.Background(), network, ua.String())
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	readFrom := func(b []byte) (int, net.Addr, error) {
		n, a, err := c.ReadFromUDP(b)
		if a == nil {
			return n, nil, err
		}
		return n, a, err
	}
	if skipsEmpty(s) {
		readFrom = skipEmpties(readFrom)
	}
	if _, fork := s.Opt("fork"); fork {
		return newPeerListener(c, readFrom, func(b []byte, to net.Addr) (int, error) {
			return c.WriteTo(b, to)
		}, nil), nil
	}
	l := newFirstPeerListener(c, readFrom, nil)
	l.skipEmpty = skipsEmpty(s)
	return l, nil
}
