package proxyserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
)

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
