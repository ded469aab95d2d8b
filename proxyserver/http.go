package proxyserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// defaultMethods are the methods forwarded when Server.Methods is nil:
// RFC 9110's, and PATCH (RFC 5789).
var defaultMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"}

// viaSockit is this proxy's entry in a forwarded request's Via field
// (RFC 9110 §7.6.3).
const viaSockit = "1.1 sockit"

// serveHTTP answers one proxy request: CONNECT opens a tunnel; a request
// for an absolute http:// URL is forwarded, its body exact, and its
// response passed back; then the connection closes.
func (s *Server) serveHTTP(ctx context.Context, c net.Conn, deadline time.Time) error {
	br := bufio.NewReaderSize(c, 4096)
	req, err := readHead(br, true)
	if err == nil {
		err = s.authorize(req)
	}
	var host, port, path string
	if err == nil {
		host, port, path, err = s.target(req)
	}
	if err == nil && s.loops(c, host, port) {
		err = refuse(http.StatusForbidden, "%s is this proxy", net.JoinHostPort(host, port))
	}
	var fr framing
	if err == nil && req.first[0] != http.MethodConnect {
		fr, err = requestFraming(req)
	}
	var up net.Conn
	if err == nil {
		dctx, cancel := context.WithDeadline(ctx, deadline)
		up, err = s.dial(dctx, net.JoinHostPort(host, port))
		cancel()
		if err != nil {
			err = refuse(http.StatusGatewayTimeout, "%v", err)
		}
	}
	if err != nil {
		s.refuse(c, br, err)
		return err
	}
	if req.first[0] == http.MethodConnect {
		if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
			up.Close()
			return err
		}
		// Bytes the client sent after its request go up first.
		if n := br.Buffered(); n > 0 {
			b, _ := br.Peek(n)
			if _, err := up.Write(b); err != nil {
				up.Close()
				return err
			}
		}
		return s.tunnel(ctx, c, up)
	}
	defer up.Close()
	c.SetDeadline(time.Time{})
	return s.forward(ctx, idle(c, s.Idle), br, idle(up, s.Idle), req, host, port, path, fr)
}

// target returns where a request goes: a CONNECT's authority (its port
// required), or an absolute http:// URL's host, port (80 by default) and
// the rest of it, passed on byte for byte.
func (s *Server) target(req *message) (host, port, path string, err error) {
	method, target := req.first[0], req.first[1]
	if method == http.MethodConnect {
		host, port, err = net.SplitHostPort(target)
		if err != nil || host == "" || !validPort(port) {
			return "", "", "", refuse(http.StatusBadRequest, "CONNECT %q: want host:port", truncate(target))
		}
		return host, port, "", nil
	}
	methods := s.Methods
	if methods == nil {
		methods = defaultMethods
	}
	if !slices.Contains(methods, method) {
		return "", "", "", refuse(http.StatusMethodNotAllowed, "method %q", truncate(method))
	}
	scheme, rest, ok := strings.Cut(target, "://")
	if !ok || !strings.EqualFold(scheme, "http") {
		return "", "", "", refuse(http.StatusBadRequest, "%s %q: want CONNECT or an absolute http:// URL", method, truncate(target))
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, path = rest[:i], rest[i:]
	}
	path, _, _ = strings.Cut(path, "#")
	switch {
	case path == "" && method == http.MethodOptions:
		path = "*" // RFC 9112 §3.2.4
	case path == "" || path[0] == '?':
		path = "/" + path
	}
	if strings.Contains(authority, "@") {
		return "", "", "", refuse(http.StatusBadRequest, "user information in %q", truncate(target))
	}
	host, port, err = net.SplitHostPort(authority)
	if err != nil {
		host, port = strings.Trim(authority, "[]"), "80"
	}
	if host == "" || !validPort(port) {
		return "", "", "", refuse(http.StatusBadRequest, "bad host in %q", truncate(target))
	}
	return host, port, path, nil
}

func validPort(p string) bool {
	n, err := strconv.ParseUint(p, 10, 16)
	return err == nil && n > 0 && p[0] != '+'
}

// loops reports whether host:port is this proxy itself: the address the
// client reached, or another local address with the same port.
func (s *Server) loops(c net.Conn, host, port string) bool {
	local, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil || port != strconv.Itoa(int(local.Port())) {
		return false
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
	if err != nil {
		return false
	}
	mine, _ := net.InterfaceAddrs()
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip == local.Addr().Unmap() || ip.IsLoopback() {
			return true
		}
		for _, a := range mine {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// forward sends a request on to its origin and passes the response back:
// hop-by-hop fields dropped, repeated fields combined, Host set from the
// URL, the body as framed; the response's head is rewritten the same way
// and its body copied as it is framed.
func (s *Server) forward(ctx context.Context, c net.Conn, br *bufio.Reader, up net.Conn, req *message, host, port, path string, fr framing) error {
	stop := context.AfterFunc(ctx, func() { up.Close() })
	defer stop()
	method := req.first[0]
	uw := bufio.NewWriter(up)
	fmt.Fprintf(uw, "%s %s HTTP/1.1\r\n", method, path)
	authority := host
	if strings.Contains(host, ":") {
		authority = "[" + host + "]"
	}
	if port != "80" {
		authority += ":" + port
	}
	fmt.Fprintf(uw, "Host: %s\r\n", authority)
	drop := req.hopByHop()
	drop["host"] = true
	via := false
	for _, f := range combine(req.fields, drop) {
		if strings.EqualFold(f.name, "via") {
			f.value, via = f.value+", "+viaSockit, true
		}
		fmt.Fprintf(uw, "%s: %s\r\n", f.name, f.value)
	}
	if !via {
		fmt.Fprintf(uw, "Via: %s\r\n", viaSockit)
	}
	uw.WriteString("Connection: close\r\n\r\n")
	sent := make(chan error, 1)
	go func() { sent <- copyBody(uw, br, fr) }()

	ubr := bufio.NewReaderSize(up, 4096)
	cw := bufio.NewWriter(c)
	for {
		resp, err := readHead(ubr, false)
		if err != nil {
			select {
			case body := <-sent:
				if body != nil {
					return fmt.Errorf("request body: %w", body)
				}
			default:
			}
			s.refuse(c, br, refuse(http.StatusBadGateway, "response from %s: %v", net.JoinHostPort(host, port), err))
			return err
		}
		code := resp.first[1]
		fmt.Fprintf(cw, "HTTP/1.1 %s %s\r\n", code, resp.first[2])
		rdrop := resp.hopByHop()
		for _, f := range resp.fields {
			if !rdrop[strings.ToLower(f.name)] {
				fmt.Fprintf(cw, "%s: %s\r\n", f.name, f.value)
			}
		}
		if code[0] == '1' && code != "101" {
			cw.WriteString("\r\n")
			if err := cw.Flush(); err != nil {
				return err
			}
			continue // 100 Continue and friends come before the answer
		}
		cw.WriteString("Connection: close\r\n\r\n")
		rf, err := responseFraming(resp, method)
		if err != nil {
			cw.Flush()
			return fmt.Errorf("response from %s: %w", net.JoinHostPort(host, port), err)
		}
		if err := copyBody(cw, ubr, rf); err != nil {
			return fmt.Errorf("response body: %w", err)
		}
		break
	}
	// The answer is complete; a request body still coming is cut off
	// (closing the conns ends the copy).
	return nil
}

// combine returns the fields to forward: without those in drop, and a
// field sent several times as one line, its values joined in order with
// ", " (RFC 9110 §5.3) or, for Cookie, "; " (RFC 6265 §5.4).
func combine(fields []field, drop map[string]bool) []field {
	var out []field
	at := map[string]int{}
	for _, f := range fields {
		key := strings.ToLower(f.name)
		if drop[key] {
			continue
		}
		if i, ok := at[key]; ok {
			sep := ", "
			if key == "cookie" {
				sep = "; "
			}
			out[i].value += sep + f.value
			continue
		}
		at[key] = len(out)
		out = append(out, f)
	}
	return out
}

// refuse answers a request with the status its error carries (400 for
// one that is not an HTTP request at all), then reads what the client
// still sends for a moment, so that closing with unread bytes does not
// reset the connection before the client reads the answer.
func (s *Server) refuse(c net.Conn, br *bufio.Reader, err error) {
	var se *statusError
	if !errors.As(err, &se) {
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isTimeout(err) {
			return // nobody to answer
		}
		se = &statusError{code: http.StatusBadRequest, msg: err.Error(), err: err}
	}
	var extra strings.Builder
	switch se.code {
	case http.StatusProxyAuthRequired:
		for _, ch := range s.challenges(errors.Is(err, errStale)) {
			fmt.Fprintf(&extra, "Proxy-Authenticate: %s\r\n", ch)
		}
	case http.StatusMethodNotAllowed:
		methods := s.Methods
		if methods == nil {
			methods = defaultMethods
		}
		fmt.Fprintf(&extra, "Allow: CONNECT, %s\r\n", strings.Join(methods, ", "))
	}
	body := "sockit: " + se.msg + "\n"
	if se.code == http.StatusProxyAuthRequired {
		body = ""
	}
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		se.code, http.StatusText(se.code), extra.String(), len(body), body)
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.CopyN(io.Discard, br, 1<<20)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// idleConn ends a forwarded exchange that sees no traffic for d.
type idleConn struct {
	net.Conn
	d time.Duration
}

func idle(c net.Conn, d time.Duration) net.Conn {
	if d <= 0 {
		return c
	}
	return idleConn{c, d}
}

func (c idleConn) Read(b []byte) (int, error) {
	c.SetReadDeadline(time.Now().Add(c.d))
	return c.Conn.Read(b)
}

func (c idleConn) Write(b []byte) (int, error) {
	c.SetWriteDeadline(time.Now().Add(c.d))
	return c.Conn.Write(b)
}
