//go:build unix

package endpoint

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// connectTo connects a bound datagram socket to peer, so that it talks to
// that peer only (ncat's UDP listener does the same with the first peer).
func connectTo(s syscall.Conn, peer net.Addr) error {
	var sa unix.Sockaddr
	switch a := peer.(type) {
	case *net.UDPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			sa4 := &unix.SockaddrInet4{Port: a.Port}
			copy(sa4.Addr[:], ip4)
			sa = sa4
		} else {
			sa6 := &unix.SockaddrInet6{Port: a.Port}
			copy(sa6.Addr[:], a.IP.To16())
			sa = sa6
		}
	case *net.IPAddr:
		if ip4 := a.IP.To4(); ip4 != nil {
			sa4 := &unix.SockaddrInet4{}
			copy(sa4.Addr[:], ip4)
			sa = sa4
		} else {
			sa6 := &unix.SockaddrInet6{}
			copy(sa6.Addr[:], a.IP.To16())
			sa = sa6
		}
	case *net.UnixAddr:
		if a == nil || a.Name == "" {
			return errNoReturnAddress
		}
		sa = &unix.SockaddrUnix{Name: a.Name}
	default:
		return fmt.Errorf("cannot connect to %v", peer)
	}
	rc, err := s.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = unix.Connect(int(fd), sa) }); err != nil {
		return err
	}
	return cerr
}
