package endpoint

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
)

// fioSetown is Linux's FIOSETOWN ioctl (asm-generic/sockios.h), which
// x/sys/unix does not name.
const fioSetown = 0x8901

// sockopts returns a Control hook that applies the socket options s asks
// for before bind or connect, or nil when it asks for none: sockit's
// reuseaddr, reuseport, rcvbuf, sndbuf and keepalive, socat's plain int
// options (address.SockoptFor: so-*, ip-*, ipv6-*, tcp-*), so-linger,
// so-bindtodevice, setsockopt-int/-bin/-string and multicast membership.
// caddy and Go's own listeners use the same hook.
func sockopts(s address.Spec) func(network, address string, rc syscall.RawConn) error {
	var set []func(fd int) error
	setInt := func(level, name, v int) {
		set = append(set, func(fd int) error {
			if err := unix.SetsockoptInt(fd, level, name, v); err != nil {
				return fmt.Errorf("setsockopt(%d, %d, %d): %w", level, name, v, err)
			}
			return nil
		})
	}
	for _, o := range s.Options {
		v := o.Value
		switch o.Name {
		case "reuseaddr":
			if flagOn(v) {
				setInt(unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			}
		case "reuseport":
			if flagOn(v) {
				setInt(unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		case "rcvbuf", "sndbuf":
			n, _ := address.ParseSize(v) // validated by address.Parse
			name := unix.SO_RCVBUF
			if o.Name == "sndbuf" {
				name = unix.SO_SNDBUF
			}
			setInt(unix.SOL_SOCKET, name, n)
		case "so-linger":
			n, _ := strconv.Atoi(v)
			set = append(set, func(fd int) error {
				return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: int32(n)})
			})
		case "so-bindtodevice":
			set = append(set, func(fd int) error {
				return unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, v)
			})
		case "setsockopt-int", "setsockopt-bin", "setsockopt", "setsockopt-listen", "setsockopt-string":
			f, err := rawSockopt(o.Name, v)
			if err != nil {
				return func(string, string, syscall.RawConn) error { return err }
			}
			set = append(set, f)
		case "ip-add-membership", "ipv6-join-group":
			f, err := membership(o.Name, v)
			if err != nil {
				return func(string, string, syscall.RawConn) error { return err }
			}
			set = append(set, f)
		case "ip-options":
			b, err := address.ParseDalan(v)
			if err != nil {
				return func(string, string, syscall.RawConn) error { return fmt.Errorf("ip-options: %w", err) }
			}
			set = append(set, func(fd int) error { return unix.SetsockoptString(fd, unix.IPPROTO_IP, unix.IP_OPTIONS, string(b)) })
		case "ip-multicast-if":
			ip := net.ParseIP(v).To4()
			if ip == nil {
				return func(string, string, syscall.RawConn) error {
					return fmt.Errorf("ip-multicast-if %q: not an IPv4 address", v)
				}
			}
			set = append(set, func(fd int) error {
				return unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, [4]byte(ip))
			})
		case "fiosetown", "siocspgrp":
			owner, _ := strconv.Atoi(v) // validated by address.Parse
			req := uint(fioSetown)
			if o.Name == "siocspgrp" {
				req = unix.SIOCSPGRP
			}
			set = append(set, func(fd int) error {
				if err := unix.IoctlSetPointerInt(fd, req, owner); err != nil {
					return fmt.Errorf("%s %d: %w", o.Name, owner, err)
				}
				return nil
			})
		default:
			if so, ok := address.SockoptFor(o.Name); ok {
				n := 1
				if v != "" {
					n, _ = strconv.Atoi(v) // validated by address.Parse
				}
				setInt(so.Level, so.Name, n)
			}
		}
	}
	if len(set) == 0 {
		return nil
	}
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			for _, f := range set {
				if serr = f(int(fd)); serr != nil {
					return
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// fileSockopts applies s's socket options to a socket sockit made itself
// (generic sockets, packet sockets) rather than through a net dialer.
func fileSockopts(f *os.File, s address.Spec) error {
	set := sockopts(s)
	if set == nil {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return set("", "", rc)
}

// rawSockopt is socat's setsockopt-int=level:name:int, setsockopt-bin (and
// setsockopt, setsockopt-listen)=level:name:dalan and
// setsockopt-string=level:name:string.
func rawSockopt(opt, v string) (func(fd int) error, error) {
	parts := strings.SplitN(v, ":", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("%s=%s: want level:option:value", opt, v)
	}
	level, err1 := strconv.Atoi(parts[0])
	name, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%s=%s: level and option are numbers", opt, v)
	}
	var val []byte
	switch opt {
	case "setsockopt-int":
		n, err := strconv.Atoi(parts[2])
		if err != nil {
			return nil, fmt.Errorf("%s=%s: the value is a number", opt, v)
		}
		return func(fd int) error { return unix.SetsockoptInt(fd, level, name, n) }, nil
	case "setsockopt-string":
		val = append([]byte(parts[2]), 0)
	default:
		b, err := address.ParseDalan(parts[2])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opt, err)
		}
		val = b
	}
	return func(fd int) error { return unix.SetsockoptString(fd, level, name, string(val)) }, nil
}

// membership is ip-add-membership=group:interface-address[:ifname] (or
// group:ifname) and ipv6-join-group=group:ifname.
func membership(opt, v string) (func(fd int) error, error) {
	group, iface, ok := strings.Cut(v, ":")
	if opt == "ipv6-join-group" {
		i := strings.LastIndex(v, ":")
		group, iface, ok = strings.Trim(v[:max(i, 0)], "[]"), v[i+1:], i > 0
	}
	gip := net.ParseIP(group)
	if !ok || gip == nil {
		return nil, fmt.Errorf("%s=%s: want group:interface", opt, v)
	}
	if opt == "ipv6-join-group" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opt, err)
		}
		mreq := &unix.IPv6Mreq{Interface: uint32(ifi.Index)}
		copy(mreq.Multiaddr[:], gip.To16())
		return func(fd int) error { return unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq) }, nil
	}
	mreq := &unix.IPMreqn{}
	copy(mreq.Multiaddr[:], gip.To4())
	addr, name, _ := strings.Cut(iface, ":")
	if ip := net.ParseIP(addr).To4(); ip != nil {
		copy(mreq.Address[:], ip)
	} else {
		name = addr
	}
	if name != "" {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", opt, err)
		}
		mreq.Ifindex = int32(ifi.Index)
	}
	return func(fd int) error { return unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq) }, nil
}
