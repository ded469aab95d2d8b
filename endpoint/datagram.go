package endpoint

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// maxDatagram is the largest datagram read at once.
const maxDatagram = 65536

// errNoReturnAddress is the error for a datagram peer on an unnamed socket.
var errNoReturnAddress = errors.New("peer has no address to answer to")

// packetSocket is what *net.UDPConn and *net.UnixConn share.
type packetSocket interface {
	net.Conn
	syscall.Conn
}

// datagramConn is a stream.Conn over a connected datagram socket. Each
// Write is one datagram. An empty datagram marks end of stream: CloseWrite
// sends one, and Read returns io.EOF when one arrives (ncat and nc read an
// empty datagram as EOF too).
type datagramConn struct {
	packetSocket
	pending   []byte // the datagram that made a listener accept this peer
	remote    net.Addr
	onClose   func()
	once      sync.Once
	skipEmpty bool // null-eof=0: an empty datagram is no EOF, and is skipped (socat's default)
}

// skipsEmpty reports whether s says empty datagrams are not EOF
// (null-eof=0, which the socat personality sets as socat's default).
func skipsEmpty(s address.Spec) bool {
	v, ok := s.Opt("null-eof")
	return ok && v == "0"
}

// skipEmpties makes a datagram reader pass over empty datagrams.
func skipEmpties(read func([]byte) (int, net.Addr, error)) func([]byte) (int, net.Addr, error) {
	return func(b []byte) (int, net.Addr, error) {
		for {
			n, a, err := read(b)
			if n > 0 || err != nil {
				return n, a, err
			}
		}
	}
}

func (c *datagramConn) Read(p []byte) (int, error) {
	if c.pending != nil {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
	for {
		n, err := c.packetSocket.Read(p)
		if n == 0 && err == nil {
			if c.skipEmpty {
				continue
			}
			return 0, io.EOF
		}
		return n, err
	}
}

// Write sends p in datagrams of at most maxDatagram-1024 bytes each.
func (c *datagramConn) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > maxDatagram-1024 {
			chunk = chunk[:maxDatagram-1024]
		}
		n, err := c.packetSocket.Write(chunk)
		total += n
		if err != nil {
			return total, err
		}
		p = p[len(chunk):]
	}
	return total, nil
}

func (c *datagramConn) CloseWrite() error {
	_, err := c.packetSocket.Write(nil)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil // the peer is gone; nothing left to tell it
	}
	return err
}

func (c *datagramConn) Close() error {
	err := c.packetSocket.Close()
	c.once.Do(func() {
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

func (c *datagramConn) RemoteAddr() net.Addr {
	if c.remote != nil {
		return c.remote
	}
	return c.packetSocket.RemoteAddr()
}

// firstPeerListener accepts the first peer that sends a datagram and then
// no other (the socket is connected to that peer).
type firstPeerListener struct {
	skipEmpty bool
	sock      packetSocket
	readOne   func([]byte) (int, net.Addr, error)
	cleanup   func()
	mu        sync.Mutex
	done      chan struct{}
	taken     bool // Accept has been called
	handed    bool // Accept returned a conn, which owns the socket now
}

func newFirstPeerListener(sock packetSocket, readOne func([]byte) (int, net.Addr, error), cleanup func()) *firstPeerListener {
	return &firstPeerListener{sock: sock, readOne: readOne, cleanup: cleanup, done: make(chan struct{})}
}

func (l *firstPeerListener) Accept() (stream.Conn, error) {
	l.mu.Lock()
	taken := l.taken
	l.taken = true
	l.mu.Unlock()
	if taken {
		<-l.done
		return nil, net.ErrClosed
	}
	buf := make([]byte, maxDatagram)
	n, peer, err := l.readOne(buf)
	if err != nil {
		return nil, err
	}
	// An unnamed Unix peer has no address to answer to: its datagrams are
	// read all the same, and the socket stays unconnected.
	if peer != nil {
		if err := connectTo(l.sock, peer); err != nil {
			return nil, fmt.Errorf("connect to %v: %w", peer, err)
		}
	}
	pending := buf[:n:n]
	if n == 0 {
		pending = []byte{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return nil, net.ErrClosed // closed while the datagram came in
	default:
	}
	l.handed = true
	return &datagramConn{packetSocket: l.sock, pending: pending, remote: peer, onClose: l.closeOnce, skipEmpty: l.skipEmpty}, nil
}

func (l *firstPeerListener) closeOnce() {
	select {
	case <-l.done:
	default:
		close(l.done)
		if l.cleanup != nil {
			l.cleanup()
		}
	}
}

// Close stops the listener. Until a peer's conn is handed out the socket
// is the listener's, and closing it ends an Accept waiting for the first
// datagram (a listener waiting for its first peer ends on ^C); after
// that, the socket is the conn's.
func (l *firstPeerListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var err error
	if !l.handed {
		err = l.sock.Close()
	}
	l.closeOnce()
	return err
}

func (l *firstPeerListener) Addr() net.Addr { return l.sock.LocalAddr() }

// tempSocketPath returns a fresh path for a client's datagram socket, so
// that the server has an address to answer to.
func tempSocketPath() (string, error) {
	f, err := os.CreateTemp("", "sockit.*.sock")
	if err != nil {
		return "", err
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return name, nil
}
