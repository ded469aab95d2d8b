package endpoint

import (
	"io"
	"net"
	"sync"

	"github.com/sockit/sockit/stream"
)

// peerQueue is how many datagrams wait for one peer's reader before more
// are dropped, as the kernel drops them when a socket buffer is full.
const peerQueue = 256

// peerListener answers every peer of one unbound-to-anyone datagram socket
// (UDP-LISTEN or UNIX-RECVFROM with fork; ncat -u -l -k): each new source
// address is accepted as a Conn of its own. One goroutine reads the socket
// and hands each datagram to its peer; a peer's writes go out through the
// same socket with sendto, so every answer comes from the listening address.
type peerListener struct {
	sock     packetSocket
	readFrom func([]byte) (int, net.Addr, error)
	writeTo  func([]byte, net.Addr) (int, error)
	cleanup  func()

	accept chan *peerConn
	done   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	peers  map[string]*peerConn
	err    error // why the reader stopped
}

func newPeerListener(sock packetSocket, readFrom func([]byte) (int, net.Addr, error),
	writeTo func([]byte, net.Addr) (int, error), cleanup func()) *peerListener {
	l := &peerListener{
		sock: sock, readFrom: readFrom, writeTo: writeTo, cleanup: cleanup,
		accept: make(chan *peerConn),
		done:   make(chan struct{}),
		peers:  make(map[string]*peerConn),
	}
	go l.read()
	return l
}

// read hands each datagram to its peer, accepting peers it has not seen.
func (l *peerListener) read() {
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := l.readFrom(buf)
		if err != nil {
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			l.Close()
			return
		}
		key := ""
		if from != nil {
			key = from.String()
		}
		l.mu.Lock()
		p, ok := l.peers[key]
		if !ok {
			p = &peerConn{l: l, key: key, peer: from, in: make(chan []byte, peerQueue), closed: make(chan struct{})}
			l.peers[key] = p
		}
		l.mu.Unlock()
		select {
		case p.in <- append([]byte(nil), buf[:n]...):
		default: // the peer's reader is behind: drop, as a full socket would
		}
		if !ok {
			select {
			case l.accept <- p:
			case <-l.done:
				return
			}
		}
	}
}

func (l *peerListener) Accept() (stream.Conn, error) {
	select {
	case p := <-l.accept:
		return p, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting and closes the socket, which ends every peer.
func (l *peerListener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.sock.Close()
		if l.cleanup != nil {
			l.cleanup()
		}
	})
	return err
}

func (l *peerListener) Addr() net.Addr { return l.sock.LocalAddr() }

func (l *peerListener) forget(p *peerConn) {
	l.mu.Lock()
	if l.peers[p.key] == p {
		delete(l.peers, p.key)
	}
	l.mu.Unlock()
}

// peerConn is one peer of a peerListener. An empty datagram from the peer
// reads as EOF, and CloseWrite sends one, as datagramConn does.
type peerConn struct {
	l       *peerListener
	key     string
	peer    net.Addr
	in      chan []byte
	pending []byte
	closed  chan struct{}
	once    sync.Once
}

func (c *peerConn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		select {
		case d := <-c.in:
			if len(d) == 0 {
				return 0, io.EOF
			}
			c.pending = d
		case <-c.closed:
			return 0, net.ErrClosed
		case <-c.l.done:
			return 0, io.EOF
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// Write sends p in datagrams of at most maxDatagram-1024 bytes each.
func (c *peerConn) Write(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxDatagram-1024)]
		if err := c.send(chunk); err != nil {
			return total, err
		}
		total += len(chunk)
		p = p[len(chunk):]
	}
	return total, nil
}

func (c *peerConn) send(b []byte) error {
	select {
	case <-c.closed:
		return net.ErrClosed
	default:
	}
	if c.peer == nil {
		return errNoReturnAddress
	}
	_, err := c.l.writeTo(b, c.peer)
	return err
}

func (c *peerConn) CloseWrite() error { return c.send(nil) }

// Close forgets the peer: a later datagram from it is a new peer.
func (c *peerConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.l.forget(c)
	})
	return nil
}

func (c *peerConn) LocalAddr() net.Addr  { return c.l.sock.LocalAddr() }
func (c *peerConn) RemoteAddr() net.Addr { return c.peer }
