//go:build unix

package endpoint_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/stream"
)

// TestSocketOptions: rcvbuf, keepalive and nodelay=0 reach the socket.
func TestSocketOptions(t *testing.T) {
	ln := holdingListener(t)
	get := func(c stream.Conn, level, name int) int {
		rc, _ := c.(syscall.Conn).SyscallConn()
		var v int
		rc.Control(func(fd uintptr) { v, _ = syscall.GetsockoptInt(int(fd), level, name) })
		return v
	}
	c, err := endpoint.Dial(context.Background(), spec(t, "TCP:"+ln.Addr().String()+",rcvbuf=256k,keepalive,nodelay=0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v := get(c, syscall.SOL_SOCKET, syscall.SO_RCVBUF); v < 256<<10 {
		t.Errorf("SO_RCVBUF %d, want at least 256k", v)
	}
	if v := get(c, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); v != 1 {
		t.Errorf("SO_KEEPALIVE %d, want 1", v)
	}
	if v := get(c, syscall.IPPROTO_TCP, syscall.TCP_NODELAY); v != 0 {
		t.Errorf("TCP_NODELAY %d, want 0", v)
	}
	plain, err := endpoint.Dial(context.Background(), spec(t, "TCP:"+ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if v := get(plain, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); v != 0 {
		t.Errorf("keepalive on without the option (%d); ncat and socat leave it off", v)
	}
}
