package scan

import (
	"net"
	"net/netip"
	"strconv"
	"testing"
)

// TestSelfConnect builds a real self-connected socket (bound to the port
// it connects to; TCP simultaneous open) and checks it is recognised.
func TestSelfConnect(t *testing.T) {
	free, _ := net.Listen("tcp4", "127.0.0.1:0")
	port := free.Addr().(*net.TCPAddr).Port
	free.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
	c, err := d.Dial("tcp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("no self-connect on this kernel: %v", err)
	}
	defer c.Close()
	if !SelfConnect(c) {
		t.Fatalf("%v → %v not seen as a self-connect", c.LocalAddr(), c.RemoteAddr())
	}
	rc, _ := c.(*net.TCPConn).SyscallConn()
	var self bool
	rc.Control(func(fd uintptr) { self = selfConnected(int(fd), port, netip.MustParseAddr("127.0.0.1")) })
	if !self {
		t.Fatal("selfConnected missed it")
	}
}
