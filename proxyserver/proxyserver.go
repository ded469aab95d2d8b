// Package proxyserver serves HTTP (CONNECT and plain GET, as ncat's
// --proxy-type http) and SOCKS5 (CONNECT) proxies on accepted conns, with
// optional credentials and a deadline on the handshake, so that a silent
// or hostile client cannot hold a slot. The tunnel itself is relay.Join.
package proxyserver

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// DefaultHandshake bounds a client's handshake when Server.Handshake is 0.
const DefaultHandshake = 30 * time.Second

// Server is one proxy configuration.
type Server struct {
	// Type is "http" or "socks5".
	Type string
	// Auth, when set as "user:password", is required from every client
	// (HTTP Basic via Proxy-Authorization, or SOCKS5 user/password).
	Auth string
	// Handshake bounds the time from accept to an open tunnel.
	Handshake time.Duration
	// Idle ends a tunnel with no traffic for this long; 0: never.
	Idle time.Duration
	// Dial opens the upstream connection; nil uses net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logf, if set, receives one line per refused or failed client.
	Logf func(format string, a ...any)
}

// Serve runs the proxy protocol on c and then the tunnel, until both
// ends are done. It closes c.
func (s *Server) Serve(ctx context.Context, c net.Conn) error {
	defer c.Close()
	// A client still in its handshake is cut off when ctx ends (a
	// signal), as the relay that follows it would be.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	hs := s.Handshake
	if hs <= 0 {
		hs = DefaultHandshake
	}
	c.SetDeadline(time.Now().Add(hs))
	var up net.Conn
	var err error
	switch s.Type {
	case "http":
		up, err = s.http(ctx, c)
	case "socks5":
		up, err = s.socks5(ctx, c)
	default:
		err = fmt.Errorf("unknown proxy type %q", s.Type)
	}
	if err != nil {
		s.logf("proxy client %s: %v", c.RemoteAddr(), err)
		return err
	}
	c.SetDeadline(time.Time{})
	_, err = relay.Join(ctx, asStream(c), asStream(up), relay.Options{Idle: s.Idle})
	return err
}

// asStream returns c as a stream.Conn; a conn without CloseWrite gets a
// no-op one (its peer then sees the end only when the tunnel closes).
func asStream(c net.Conn) stream.Conn {
	if sc, ok := c.(stream.Conn); ok {
		return sc
	}
	return noHalfClose{c}
}

type noHalfClose struct{ net.Conn }

func (noHalfClose) CloseWrite() error { return nil }

func (s *Server) logf(format string, a ...any) {
	if s.Logf != nil {
		s.Logf(format, a...)
	}
}

func (s *Server) dial(ctx context.Context, addr string) (net.Conn, error) {
	if s.Dial != nil {
		return s.Dial(ctx, "tcp", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// http handles one HTTP proxy request: CONNECT opens a tunnel; a request
// for an absolute http:// URL is forwarded as is, one per connection.
func (s *Server) http(ctx context.Context, c net.Conn) (net.Conn, error) {
	br := bufio.NewReaderSize(c, 4096)
	req, err := http.ReadRequest(br)
	if err != nil {
		reply(c, http.StatusBadRequest, "")
		return nil, fmt.Errorf("bad request: %w", err)
	}
	if s.Auth != "" && !s.httpAuthorized(req.Header.Get("Proxy-Authorization")) {
		reply(c, http.StatusProxyAuthRequired, "Proxy-Authenticate: Basic realm=\"sockit\"\r\n")
		return nil, errors.New("no valid credentials")
	}
	target := req.Host
	if req.Method != http.MethodConnect {
		if req.URL.Scheme != "http" || req.URL.Host == "" {
			reply(c, http.StatusBadRequest, "")
			return nil, fmt.Errorf("%s %s: want CONNECT or an absolute http:// URL", req.Method, truncate(req.RequestURI))
		}
		target = req.URL.Host
	}
	if _, _, err := net.SplitHostPort(target); err != nil {
		target = net.JoinHostPort(target, "80")
	}
	up, err := s.dial(ctx, target)
	if err != nil {
		reply(c, http.StatusBadGateway, "")
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if req.Method == http.MethodConnect {
		if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			up.Close()
			return nil, err
		}
	} else {
		req.Header.Del("Proxy-Authorization")
		req.Header.Del("Proxy-Connection")
		req.Header.Set("Connection", "close")
		req.Close = true
		if err := req.Write(up); err != nil {
			up.Close()
			reply(c, http.StatusBadGateway, "")
			return nil, err
		}
	}
	// Bytes the client sent after its request go up first.
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		if _, err := up.Write(b); err != nil {
			up.Close()
			return nil, err
		}
	}
	return up, nil
}

func (s *Server) httpAuthorized(h string) bool {
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	return err == nil && subtle.ConstantTimeCompare(got, []byte(s.Auth)) == 1
}

func reply(w io.Writer, code int, headers string) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", code, http.StatusText(code), headers)
}

// socks5 handles RFC 1928 CONNECT with no authentication or, when Auth
// is set, RFC 1929 user/password only.
func (s *Server) socks5(ctx context.Context, c net.Conn) (net.Conn, error) {
	var head [2]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if head[0] != 5 {
		return nil, fmt.Errorf("not SOCKS5 (version byte %d)", head[0])
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return nil, fmt.Errorf("greeting: %w", err)
	}
	want := byte(0)
	if s.Auth != "" {
		want = 2
	}
	if !strings.ContainsRune(string(methods), rune(want)) {
		c.Write([]byte{5, 0xff})
		return nil, errors.New("no acceptable authentication method")
	}
	if _, err := c.Write([]byte{5, want}); err != nil {
		return nil, err
	}
	if want == 2 {
		var v [2]byte
		if _, err := io.ReadFull(c, v[:]); err != nil || v[0] != 1 {
			return nil, errors.New("bad authentication request")
		}
		user := make([]byte, v[1])
		if _, err := io.ReadFull(c, user); err != nil {
			return nil, err
		}
		var pl [1]byte
		if _, err := io.ReadFull(c, pl[:]); err != nil {
			return nil, err
		}
		pass := make([]byte, pl[0])
		if _, err := io.ReadFull(c, pass); err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare([]byte(string(user)+":"+string(pass)), []byte(s.Auth)) != 1 {
			c.Write([]byte{1, 1})
			return nil, errors.New("wrong user name or password")
		}
		if _, err := c.Write([]byte{1, 0}); err != nil {
			return nil, err
		}
	}
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	if req[0] != 5 {
		return nil, fmt.Errorf("request: version byte %d", req[0])
	}
	var host string
	switch req[3] {
	case 1, 4:
		b := make([]byte, map[byte]int{1: 4, 4: 16}[req[3]])
		if _, err := io.ReadFull(c, b); err != nil {
			return nil, err
		}
		host = net.IP(b).String()
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil, err
		}
		b := make([]byte, l[0])
		if _, err := io.ReadFull(c, b); err != nil {
			return nil, err
		}
		host = string(b)
	default:
		socksReply(c, 8)
		return nil, fmt.Errorf("address type %d", req[3])
	}
	var pb [2]byte
	if _, err := io.ReadFull(c, pb[:]); err != nil {
		return nil, err
	}
	if req[1] != 1 {
		socksReply(c, 7)
		return nil, fmt.Errorf("command %d not supported (CONNECT only)", req[1])
	}
	target := net.JoinHostPort(host, strconv.Itoa(int(pb[0])<<8|int(pb[1])))
	up, err := s.dial(ctx, target)
	if err != nil {
		code := byte(1)
		var op *net.OpError
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			code = 5
		case errors.As(err, &op):
			code = 4
		}
		socksReply(c, code)
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	if err := socksReply(c, 0); err != nil {
		up.Close()
		return nil, err
	}
	return up, nil
}

// socksReply sends a reply with an empty IPv4 bound address.
func socksReply(w io.Writer, code byte) error {
	_, err := w.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
	return err
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
