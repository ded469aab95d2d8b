package scan

import (
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// scanTCP connects to every port with plain blocking connect(2) calls
// from a few worker threads: on loopback and LANs the answer (SYN-ACK or
// RST) comes before the call returns, and Go's dialer costs several times
// the syscall itself. SO_SNDTIMEO bounds a connect that gets no answer,
// and SO_LINGER 0 closes with a reset, leaving no TIME_WAIT behind.
func scanTCP(ip netip.Addr, ports []int, timeout time.Duration, workers int) []Result {
	results := make([]Result, len(ports))
	family := unix.AF_INET
	if ip.Is6() {
		family = unix.AF_INET6
	}
	tv := unix.NsecToTimeval(timeout.Nanoseconds())
	next := make(chan int, 256)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				results[i] = connectOnce(family, ip, ports[i], &tv)
			}
		})
	}
	for i := range ports {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func connectOnce(family int, ip netip.Addr, port int, tv *unix.Timeval) Result {
	r := Result{Port: port}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		r.State, r.Err = Filtered, err
		return r
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, tv)
	unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	var sa unix.Sockaddr
	if family == unix.AF_INET {
		sa = &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	}
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case err == nil:
		if selfConnected(fd, port, ip) {
			r.State, r.Err = Closed, errors.New("self-connect")
		} else {
			r.State = Open
		}
	case errors.Is(err, unix.ECONNREFUSED):
		r.State, r.Err = Closed, err
	default: // EINPROGRESS after SO_SNDTIMEO, unreachable, ...
		r.State, r.Err = Filtered, err
	}
	return r
}

// selfConnected reports whether the socket's own address is the one it
// connected to: the SYN met itself.
func selfConnected(fd, port int, ip netip.Addr) bool {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port == port && netip.AddrFrom4(a.Addr) == ip
	case *unix.SockaddrInet6:
		return a.Port == port && netip.AddrFrom16(a.Addr) == ip
	}
	return false
}

// workers is how many threads connect at once.
func workers() int { return 2 * runtime.GOMAXPROCS(0) }
