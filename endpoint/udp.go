package endpoint

import (
	"context"
	"fmt"
	"net"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

func dialUDP(ctx context.Context, s address.Spec) (stream.Conn, error) {
	addr, err := hostPort(s.Arg(0), s.Arg(1))
	if err != nil {
		return nil, err
	}
	network := ipNetwork("udp", s)
	d := net.Dialer{}
	if b, ok := s.Opt("bind"); ok {
		la, err := net.ResolveUDPAddr(network, b)
		if err != nil {
			return nil, fmt.Errorf("bind %s: %w", b, err)
		}
		d.LocalAddr = la
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &datagramConn{packetSocket: c.(*net.UDPConn)}, nil
}

func listenUDP(s address.Spec) (Listener, error) {
	host, _ := s.Opt("bind")
	addr, err := hostPort(host, s.Arg(0))
	if err != nil {
		return nil, err
	}
	network := ipNetwork("udp", s)
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, err
	}
	readFrom := func(b []byte) (int, net.Addr, error) {
		n, a, err := c.ReadFromUDP(b)
		if a == nil {
			return n, nil, err
		}
		return n, a, err
	}
	if _, fork := s.Opt("fork"); fork {
		return newPeerListener(c, readFrom, func(b []byte, to net.Addr) (int, error) {
			return c.WriteTo(b, to)
		}, nil), nil
	}
	return newFirstPeerListener(c, readFrom, nil), nil
}
