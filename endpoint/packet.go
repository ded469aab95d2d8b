package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// errReceiveOnly is what writing to a *-RECV address gives.
var errReceiveOnly = errors.New("this address only receives (socat's *-RECV); nothing can be sent on it")

// packetConn is a stream over a datagram socket that is not connected to
// one peer: socat's UDP-RECV, UNIX-RECV and IP-RECV (receive from anyone,
// send nothing) and UDP-DATAGRAM, IP-DATAGRAM and IP-SENDTO (send to one
// address, receive from anyone). Each Write is one datagram. Datagrams
// from outside the range option are dropped; empty ones are skipped, or
// read as end of stream with null-eof, as socat does.
type packetConn struct {
	pc      net.PacketConn
	to      net.Addr // nil: receive only
	allow   netip.Prefix
	nullEOF bool
	buf     []byte
	pending []byte
	from    net.Addr
	onClose func()
}

func newPacketConn(ctx context.Context, pc net.PacketConn, to net.Addr, s address.Spec) (*packetConn, error) {
	v, set := s.Opt("null-eof")
	c := &packetConn{pc: pc, to: to, nullEOF: set && flagOn(v), buf: make([]byte, maxDatagram)}
	if v, ok := s.Opt("range"); ok {
		p, err := parseRange(ctx, v)
		if err != nil {
			pc.Close()
			return nil, err
		}
		c.allow = p
	}
	return c, nil
}

func (c *packetConn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		n, from, err := c.pc.ReadFrom(c.buf)
		if err != nil {
			return 0, err
		}
		if c.allow.IsValid() {
			ap, perr := netip.ParseAddrPort(Addr(from))
			if perr != nil {
				if a, aerr := netip.ParseAddr(Addr(from)); aerr == nil { // raw IP: no port
					ap = netip.AddrPortFrom(a, 0)
				}
			}
			if !c.allow.Contains(ap.Addr().Unmap()) {
				continue
			}
		}
		c.from = from
		if n == 0 {
			if c.nullEOF {
				return 0, io.EOF
			}
			continue
		}
		c.pending = c.buf[:n]
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write sends p to the address, in datagrams of at most maxDatagram-1024 bytes.
func (c *packetConn) Write(p []byte) (int, error) {
	if c.to == nil {
		return 0, errReceiveOnly
	}
	total := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxDatagram-1024)]
		if _, err := c.pc.WriteTo(chunk, c.to); err != nil {
			return total, err
		}
		total += len(chunk)
		p = p[len(chunk):]
	}
	return total, nil
}

// CloseWrite sends nothing: socat tells a datagram peer of EOF only when
// asked to (shut-null).
func (c *packetConn) CloseWrite() error { return nil }

func (c *packetConn) Close() error {
	err := c.pc.Close()
	if c.onClose != nil {
		c.onClose()
		c.onClose = nil
	}
	return err
}

func (c *packetConn) LocalAddr() net.Addr { return c.pc.LocalAddr() }

// RemoteAddr is the address sent to, or the last peer heard from.
func (c *packetConn) RemoteAddr() net.Addr {
	if c.to != nil {
		return c.to
	}
	return c.from
}

// openPacket opens UDP-RECV, UDP-DATAGRAM, UNIX-RECV and the raw IP
// types but IP-RECVFROM.
func openPacket(ctx context.Context, s address.Spec) (stream.Conn, error) {
	var lc net.ListenConfig
	lc.Control = sockopts(s)
	switch s.Kind {
	case address.UDPRecv:
		host, _ := s.Opt("bind")
		addr, err := hostPort(host, s.Arg(0))
		if err != nil {
			return nil, err
		}
		pc, err := lc.ListenPacket(ctx, ipNetwork("udp", s), addr)
		if err != nil {
			return nil, err
		}
		return newPacketConn(ctx, pc, nil, s)
	case address.UDPDatagram:
		network := ipNetwork("udp", s)
		to, err := resolveUDP(ctx, network, s.Arg(0), s.Arg(1))
		if err != nil {
			return nil, err
		}
		bind := ":0"
		if b, ok := s.Opt("bind"); ok {
			bind = b
		} else if to.IP.To4() == nil {
			network = "udp6"
		} else {
			network = "udp4"
		}
		pc, err := lc.ListenPacket(ctx, network, bind)
		if err != nil {
			return nil, err
		}
		return newPacketConn(ctx, pc, to, s)
	case address.UnixRecv:
		path := unixPath(s)
		if err := unlinkEarly(s, path); err != nil {
			return nil, err
		}
		pc, err := lc.ListenPacket(ctx, "unixgram", path)
		if err != nil {
			return nil, err
		}
		if err := setMode(s, path); err != nil {
			pc.Close()
			return nil, err
		}
		c, err := newPacketConn(ctx, pc, nil, s)
		if err == nil && path[0] != '@' {
			c.onClose = func() { os.Remove(path) }
		}
		return c, err
	case address.IPSendto, address.IPDatagram, address.IPRecv:
		proto := s.Arg(len(s.Args) - 1)
		network := ipNetwork("ip", s)
		var to net.Addr
		if s.Kind != address.IPRecv {
			ra, err := net.ResolveIPAddr(network, strings.Trim(s.Arg(0), "[]"))
			if err != nil {
				return nil, err
			}
			to = ra
			if network == "ip" {
				network = "ip4"
				if ra.IP.To4() == nil {
					network = "ip6"
				}
			}
		} else if network == "ip" {
			network = "ip4"
		}
		bind, _ := s.Opt("bind")
		pc, err := lc.ListenPacket(ctx, network+":"+proto, bind)
		if err != nil {
			return nil, rawHint(err)
		}
		return newPacketConn(ctx, pc, to, s)
	}
	return nil, fmt.Errorf("%s: not a datagram address", s.Kind)
}

// rawHint adds what to do when a raw socket is refused.
func rawHint(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%w (raw IP sockets need root or CAP_NET_RAW)", err)
	}
	return err
}

func resolveUDP(ctx context.Context, network, host, port string) (*net.UDPAddr, error) {
	addr, err := hostPort(host, port)
	if err != nil {
		return nil, err
	}
	var r net.Resolver
	h, p, _ := net.SplitHostPort(addr)
	ips, err := r.LookupNetIP(ctx, map[string]string{"udp": "ip", "udp4": "ip4", "udp6": "ip6"}[network], h)
	if err != nil {
		return nil, err
	}
	pn, err := net.LookupPort("udp", p)
	if err != nil {
		return nil, err
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ips[0].Unmap(), uint16(pn))), nil
}

// listenIPRecvfrom is IP-RECVFROM: the first peer that sends a packet of
// the protocol is answered (every peer with fork), as UDP-RECVFROM.
func listenIPRecvfrom(s address.Spec) (Listener, error) {
	network := ipNetwork("ip", s)
	if network == "ip" {
		network = "ip4"
	}
	bind, _ := s.Opt("bind")
	c, err := net.ListenIP(network+":"+s.Arg(0), ipAddr(bind))
	if err != nil {
		return nil, rawHint(err)
	}
	readFrom := func(b []byte) (int, net.Addr, error) {
		n, a, err := c.ReadFromIP(b)
		if a == nil {
			return n, nil, err
		}
		return n, a, err
	}
	if skipsEmpty(s) {
		readFrom = skipEmpties(readFrom)
	}
	if _, fork := s.Opt("fork"); fork {
		return newPeerListener(c, readFrom, func(b []byte, to net.Addr) (int, error) { return c.WriteTo(b, to) }, nil), nil
	}
	l := newFirstPeerListener(c, readFrom, nil)
	l.skipEmpty = skipsEmpty(s)
	return l, nil
}

func ipAddr(host string) *net.IPAddr {
	if host == "" {
		return nil
	}
	a, err := net.ResolveIPAddr("ip", host)
	if err != nil {
		return nil
	}
	return a
}
