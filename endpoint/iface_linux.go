package endpoint

import (
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// openInterface is socat's INTERFACE:<name> (root): a packet socket bound
// to the interface, reading and writing whole link-level frames, one per
// Read and Write. The iff-* options set the interface's flags first.
func openInterface(s address.Spec) (stream.Conn, error) {
	ifi, err := net.InterfaceByName(s.Arg(0))
	if err != nil {
		return nil, err
	}
	if err := setInterfaceFlags(ifi.Name, s); err != nil {
		return nil, err
	}
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(proto))
	if err != nil {
		return nil, rawHint(os.NewSyscallError("socket", err))
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	f := os.NewFile(uintptr(fd), "interface:"+ifi.Name)
	if err := fileSockopts(f, s); err != nil {
		f.Close()
		return nil, err
	}
	return &fileConn{f: f, closed: make(chan struct{})}, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// interfaceFlags are socat's iff-* options.
var interfaceFlags = map[string]uint16{
	"iff-up": unix.IFF_UP, "iff-broadcast": unix.IFF_BROADCAST, "iff-debug": unix.IFF_DEBUG,
	"iff-loopback": unix.IFF_LOOPBACK, "iff-pointopoint": unix.IFF_POINTOPOINT, "iff-notrailers": unix.IFF_NOTRAILERS,
	"iff-running": unix.IFF_RUNNING, "iff-noarp": unix.IFF_NOARP, "iff-promisc": unix.IFF_PROMISC,
	"iff-allmulti": unix.IFF_ALLMULTI, "iff-master": unix.IFF_MASTER, "iff-slave": unix.IFF_SLAVE,
	"iff-multicast": unix.IFF_MULTICAST, "iff-portsel": unix.IFF_PORTSEL, "iff-automedia": unix.IFF_AUTOMEDIA,
	"iff-dynamic": unix.IFF_DYNAMIC,
}

// setInterfaceFlags applies the iff-* options to the interface name.
func setInterfaceFlags(name string, s address.Spec) error {
	var set, clear uint16
	for _, o := range s.Options {
		if bit, ok := interfaceFlags[o.Name]; ok {
			if flagOn(o.Value) {
				set |= bit
			} else {
				clear |= bit
			}
		}
	}
	if set == 0 && clear == 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("interface %s flags: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16()&^clear | set)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("interface %s flags (%s): %w", name, strings.TrimSpace(fmt.Sprintf("%#x", set)), err)
	}
	return nil
}

// openTUN is socat's TUN[:<ip-addr>/<bits>] (root): a new TUN (or, with
// tun-type=tap, TAP) interface named tun-name (the kernel picks one
// otherwise), opened through tun-device (default /dev/net/tun), with the
// address given and the iff-* flags set. Each Read and Write is one
// packet, with the 4-byte packet information header unless iff-no-pi.
func openTUN(s address.Spec) (stream.Conn, error) {
	dev := "/dev/net/tun"
	if v, ok := s.Opt("tun-device"); ok {
		dev = v
	}
	// The device is set up before Go's poller sees it: a TUN descriptor
	// is only pollable once TUNSETIFF has made it an interface.
	fd, err := unix.Open(dev, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dev, Err: err}
	}
	name, _ := s.Opt("tun-name")
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	flags := uint16(unix.IFF_TUN)
	switch v, _ := s.Opt("tun-type"); v {
	case "", "tun":
	case "tap":
		flags = unix.IFF_TAP
	default:
		unix.Close(fd)
		return nil, fmt.Errorf("tun-type %q: want tun or tap", v)
	}
	if on(s, "iff-no-pi") {
		flags |= unix.IFF_NO_PI
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("TUNSETIFF: %w", err)
	}
	f := os.NewFile(uintptr(fd), dev)
	name = ifr.Name()
	if a := s.Arg(0); a != "" {
		if err := setInterfaceAddr(name, a); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := setInterfaceFlags(name, s); err != nil {
		f.Close()
		return nil, err
	}
	return &fileConn{f: f, closed: make(chan struct{})}, nil
}

// setInterfaceAddr gives an interface an IPv4 address and netmask, from
// "addr/bits".
func setInterfaceAddr(name, cidr string) error {
	ip, ipnet, err := net.ParseCIDR(cidr)
	if err != nil || ip.To4() == nil {
		return fmt.Errorf("TUN address %q: want an IPv4 address/bits", cidr)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, step := range []struct {
		req uint
		ip  net.IP
	}{{unix.SIOCSIFADDR, ip.To4()}, {unix.SIOCSIFNETMASK, net.IP(ipnet.Mask).To4()}} {
		ifr, err := unix.NewIfreq(name)
		if err != nil {
			return err
		}
		if err := ifr.SetInet4Addr(step.ip); err != nil {
			return err
		}
		if err := unix.IoctlIfreq(fd, step.req, ifr); err != nil {
			return fmt.Errorf("interface %s address %s: %w", name, cidr, err)
		}
	}
	return nil
}
