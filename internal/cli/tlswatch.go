package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/sockit/sockit/capture"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/events"
)

// tlsWatch is what --capture and --keylog see of TLS: the records as
// they cross the wire, and the session keys, which go to --keylog's file
// and into the capture's secrets blocks, ahead of the records that need
// them.
type tlsWatch struct {
	r      *runner
	mu     sync.Mutex
	file   *os.File // --keylog's, or SSLKEYLOGFILE's
	keys   []byte   // key log lines not yet in the capture
	warned bool
}

// watchTLS returns ctx under which TLS connections are watched for the
// capture and the key log (keylog, or $SSLKEYLOGFILE when keylog is
// empty), and what closes the key log; ctx as it is when neither is on.
func (r *runner) watchTLS(ctx context.Context, keylog string) (context.Context, io.Closer, error) {
	if keylog == "" && (r.name == "sockit" || r.name == "sockit relay") {
		keylog = os.Getenv("SSLKEYLOGFILE") // not under a peer's name: theirs ignore it
	}
	if keylog == "" && r.capture == nil {
		return ctx, io.NopCloser(nil), nil
	}
	w := &tlsWatch{r: r}
	if keylog != "" {
		f, err := os.OpenFile(keylog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("key log: %w", err)
		}
		w.file = f
		r.errorf("WARNING: %s gets the TLS session keys: whoever reads it can decrypt these sessions.", keylog)
	}
	obs := &endpoint.TLSObserver{KeyLog: w}
	if r.capture != nil {
		obs.Wire = w.wire
	}
	closer := closerFunc(func() error {
		if w.file != nil {
			return w.file.Close()
		}
		return nil
	})
	return endpoint.WithTLSObserver(ctx, obs), closer, nil
}

// Write takes key log lines from crypto/tls.
func (w *tlsWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.file != nil {
		w.file.Write(p) //nolint:errcheck // a key log that cannot be written does not stop a session
	}
	if w.r.capture != nil {
		w.keys = append(w.keys, p...)
	}
	return len(p), nil
}

// flushKeys puts the key log lines seen so far in the capture.
func (w *tlsWatch) flushKeys() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.keys) == 0 {
		return
	}
	if !w.warned {
		w.warned = true
		w.r.errorf("WARNING: the capture holds TLS session keys (a decryption secrets block): whoever reads it can decrypt these sessions.")
	}
	w.r.capture.Secrets(w.keys)
	w.keys = nil
}

// wire wraps a TCP connection that TLS runs over, to capture its records.
func (w *tlsWatch) wire(raw net.Conn, server bool) net.Conn {
	local, remote := events.AddrPort(raw.LocalAddr()), events.AddrPort(raw.RemoteAddr())
	if !local.IsValid() || !remote.IsValid() {
		return raw
	}
	orig, resp := local, remote
	if server {
		orig, resp = remote, local
	}
	id := w.r.iface("tls", "TLS records as they crossed the wire")
	return &wireConn{Conn: raw, w: w, flow: w.r.capture.TCP(id, orig, resp, time.Now()), server: server, holding: true}
}

// wireConn records what crosses a TLS connection's socket. Until the
// handshake is done (release) its frames are held, so that the keys
// logged during the handshake reach the capture before the records
// they decrypt.
type wireConn struct {
	net.Conn
	w       *tlsWatch
	flow    *capture.Flow
	server  bool // the peer originated the connection
	mu      sync.Mutex
	holding bool
	held    []heldFrame
	finIn   bool
	finOut  bool
}

type heldFrame struct {
	fromOrig, fin bool
	p             []byte
	t             time.Time
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.record(heldFrame{fromOrig: c.server, p: p[:n], t: time.Now()})
	}
	if err == io.EOF {
		c.mu.Lock()
		fin := !c.finIn
		c.finIn = true
		c.mu.Unlock()
		if fin {
			c.record(heldFrame{fromOrig: c.server, fin: true, t: time.Now()})
		}
	}
	return n, err
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.record(heldFrame{fromOrig: !c.server, p: p[:n], t: time.Now()})
	}
	return n, err
}

// Close records sockit's FIN, lets out what was held, and closes.
func (c *wireConn) Close() error {
	c.mu.Lock()
	fin := !c.finOut
	c.finOut = true
	c.mu.Unlock()
	if fin {
		c.record(heldFrame{fromOrig: !c.server, fin: true, t: time.Now()})
	}
	c.release()
	return c.Conn.Close()
}

func (c *wireConn) record(f heldFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		f.p = append([]byte(nil), f.p...)
		c.held = append(c.held, f)
		return
	}
	c.write(f)
}

func (c *wireConn) write(f heldFrame) {
	if f.fin {
		c.flow.FIN(f.fromOrig, f.t)
		return
	}
	c.flow.Data(f.fromOrig, f.p, f.t)
}

// release puts the handshake's keys in the capture, then the frames
// held so far; from now on frames go straight in.
func (c *wireConn) release() {
	c.w.flushKeys()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holding {
		return
	}
	c.holding = false
	for _, f := range c.held {
		c.write(f)
	}
	c.held = nil
}

// tlsConn is what *tls.Conn and *endpoint.ServerTLSConn have in common.
type tlsConn interface {
	ConnectionState() tls.ConnectionState
	HandshakeContext(context.Context) error
	NetConn() net.Conn
}

// isTLS says whether c is a TLS connection.
func isTLS(c any) bool { _, ok := c.(tlsConn); return ok }

// synthetic is the address pair of a capture leg with no IP flow of its
// own: sockit is 127.1.0.1 and the endpoint 127.1.0.2, on port.
func synthetic(port uint16) (sockit, endpoint netip.AddrPort) {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, 0, 1}), port),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, 0, 2}), port)
}
