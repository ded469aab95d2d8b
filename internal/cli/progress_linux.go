package cli

import (
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// kernelCounts reads a TCP socket's bytes acknowledged and received from
// TCP_INFO, without touching the data path; nil for other sockets.
func kernelCounts(c net.Conn) func() (sent, recv int64) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	if _, tcp := c.LocalAddr().(*net.TCPAddr); !tcp {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var mu sync.Mutex
	var sent, recv int64 // the last counts read: a closed socket has none
	return func() (int64, int64) {
		mu.Lock()
		defer mu.Unlock()
		raw.Control(func(fd uintptr) { //nolint:errcheck // a closed socket keeps its last counts
			if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
				// The SYN (and the FIN, at the end) count in bytes_acked.
				sent, recv = max(0, int64(info.Bytes_acked)-1), int64(info.Bytes_received)
			}
		})
		return sent, recv
	}
}
