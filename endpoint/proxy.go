package endpoint

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/internal/httpauth"
	"github.com/sockit/sockit/stream"
)

// dialProxy connects through a proxy to host:port: SOCKS4, SOCKS4A,
// SOCKS5 or PROXY (HTTP CONNECT), whose parameters are the proxy server,
// the target host and the target port. It is a one-hop chain of dialVia,
// spelled in socat's options. The returned conn is the TCP conn to the
// proxy itself, so the relay keeps its splice path.
func dialProxy(ctx context.Context, s address.Spec) (stream.Conn, error) {
	server, host, port := s.Arg(0), s.Arg(1), s.Arg(2)
	pport, user, pass := opt(s, "socksport"), opt(s, "socksuser"), opt(s, "sockspass")
	if pport == "" {
		pport = "1080"
	}
	hop := url.URL{Scheme: "socks5"}
	dns := "remote"
	switch s.Kind {
	case address.Socks4:
		hop.Scheme, dns = "socks4", "local" // socat resolves SOCKS4 targets itself
	case address.Socks4A:
		hop.Scheme = "socks4a"
	case address.Proxy:
		hop.Scheme = "http"
		if pport = opt(s, "proxyport"); pport == "" {
			pport = "8080" // socat's default
		}
		auth := opt(s, "proxyauth")
		if file := opt(s, "proxy-authorization-file"); file != "" {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, fmt.Errorf("proxy-authorization-file: %w", err)
			}
			auth = strings.TrimRight(string(b), "\r\n")
		}
		user, pass, _ = strings.Cut(auth, ":")
		if on(s, "proxy-resolve") {
			// Send the proxy an address, not the name: IPv4, as socat's
			// (RFC 2396 addresses in a CONNECT line).
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", strings.Trim(host, "[]"))
			if err != nil {
				return nil, fmt.Errorf("proxy-resolve %s: %w", host, err)
			}
			host = ips[0].Unmap().String()
		}
	}
	hop.Host = net.JoinHostPort(strings.Trim(server, "[]"), pport)
	if user != "" {
		hop.User = url.UserPassword(user, pass)
		if s.Kind == address.Proxy {
			hop.RawQuery = "auth=basic" // socat sends Basic with the first request
		}
	}
	if err := checkPort(port); err != nil {
		return nil, err
	}
	tcp := s
	tcp.Kind, tcp.Args = address.TCP, []string{host, port}
	tcp.Options = append(append([]address.Option(nil), s.Options...),
		address.Option{Name: "via", Value: hop.String()}, address.Option{Name: "proxy-dns", Value: dns})
	return dialVia(ctx, tcp, strings.Trim(host, "[]"), port)
}

// noDeadline clears a deadline.
var noDeadline time.Time

// ErrProxyRefused is a proxy's refusal of the connection.
var ErrProxyRefused = errors.New("proxy refused the connection")

// Socks4 asks a SOCKS4 server to connect to ip:port, or, when name is not
// empty, a SOCKS4A server to resolve name and connect to it.
func Socks4(rw io.ReadWriter, ip netip.Addr, name string, port uint16, user string) error {
	req := []byte{4, 1, byte(port >> 8), byte(port)}
	if name != "" {
		req = append(req, 0, 0, 0, 1) // 0.0.0.1: the name follows
	} else {
		if !ip.Is4() {
			return fmt.Errorf("socks4: %v is not an IPv4 address", ip)
		}
		a := ip.As4()
		req = append(req, a[:]...)
	}
	req = append(append(req, user...), 0)
	if name != "" {
		req = append(append(req, name...), 0)
	}
	if _, err := rw.Write(req); err != nil {
		return fmt.Errorf("socks4: %w", err)
	}
	var rep [8]byte
	if _, err := io.ReadFull(rw, rep[:]); err != nil {
		return fmt.Errorf("socks4: reading the reply: %w", err)
	}
	return socks4Reply(rep)
}

func socks4Reply(rep [8]byte) error {
	if rep[0] != 0 {
		return fmt.Errorf("socks4: not a SOCKS4 reply (version byte %d)", rep[0])
	}
	switch rep[1] {
	case 90:
		return nil
	case 91, 92, 93:
		return &SocksError{Version: 4, Code: int(rep[1])}
	}
	return fmt.Errorf("socks4: unknown reply code %d", rep[1])
}

// SocksError is a SOCKS server's refusal of a CONNECT: its reply code
// (SOCKS4's 91 to 93, RFC 1928's 1 to 255).
type SocksError struct {
	Version int // 4 or 5
	Code    int
}

func (e *SocksError) Error() string {
	why := "unknown error"
	switch {
	case e.Version == 4 && e.Code == 91:
		why = "request rejected or failed"
	case e.Version == 4 && (e.Code == 92 || e.Code == 93):
		why = "identd check failed"
	case e.Version == 5 && e.Code < len(socks5Errors) && socks5Errors[e.Code] != "":
		why = socks5Errors[e.Code]
	}
	return fmt.Sprintf("socks%d: %v (%s)", e.Version, ErrProxyRefused, why)
}

// Is makes a SocksError an ErrProxyRefused.
func (e *SocksError) Is(target error) bool { return target == ErrProxyRefused }

// socks5Errors are RFC 1928's reply codes.
var socks5Errors = []string{1: "general failure", 2: "connection not allowed by ruleset",
	3: "network unreachable", 4: "host unreachable", 5: "connection refused", 6: "TTL expired",
	7: "command not supported", 8: "address type not supported"}

// Socks5 asks a SOCKS5 server to connect to host:port, authenticating
// with user and password (RFC 1929) when user is set. Host names go to
// the server to resolve.
func Socks5(rw io.ReadWriter, host string, port uint16, user, pass string) error {
	methods := []byte{0} // no authentication
	if user != "" {
		methods = []byte{0, 2} // or user name and password, as the server likes
	}
	if _, err := rw.Write(append([]byte{5, byte(len(methods))}, methods...)); err != nil {
		return fmt.Errorf("socks5: %w", err)
	}
	var choice [2]byte
	if _, err := io.ReadFull(rw, choice[:]); err != nil {
		return fmt.Errorf("socks5: reading the method: %w", err)
	}
	switch {
	case choice[0] != 5:
		return fmt.Errorf("socks5: not a SOCKS5 server (version byte %d)", choice[0])
	case choice[1] == 0xff:
		return fmt.Errorf("socks5: %w (no acceptable authentication method; a user name and password?)", ErrProxyRefused)
	case choice[1] == 2:
		if user == "" || len(user) > 255 || len(pass) > 255 {
			return fmt.Errorf("socks5: the server wants a user name and password (up to 255 bytes each)")
		}
		msg := append(append(append([]byte{1, byte(len(user))}, user...), byte(len(pass))), pass...)
		if _, err := rw.Write(msg); err != nil {
			return fmt.Errorf("socks5: %w", err)
		}
		var st [2]byte
		if _, err := io.ReadFull(rw, st[:]); err != nil {
			return fmt.Errorf("socks5: reading the authentication status: %w", err)
		}
		if st[1] != 0 {
			return fmt.Errorf("socks5: %w (authentication failed)", ErrProxyRefused)
		}
	case choice[1] != 0:
		return fmt.Errorf("socks5: the server chose method %d, which was not offered", choice[1])
	}
	req := []byte{5, 1, 0}
	h := strings.Trim(host, "[]")
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Is4() {
			a := ip.As4()
			req = append(append(req, 1), a[:]...)
		} else {
			a := ip.As16()
			req = append(append(req, 4), a[:]...)
		}
	} else {
		if len(h) > 255 {
			return fmt.Errorf("socks5: host name longer than 255 bytes")
		}
		req = append(append(append(req, 3), byte(len(h))), h...)
	}
	req = binary.BigEndian.AppendUint16(req, port)
	if _, err := rw.Write(req); err != nil {
		return fmt.Errorf("socks5: %w", err)
	}
	return socks5Reply(rw)
}

// socks5Reply reads a CONNECT reply, bound address included, and leaves
// nothing of it unread.
func socks5Reply(r io.Reader) error {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return fmt.Errorf("socks5: reading the reply: %w", err)
	}
	if head[0] != 5 {
		return fmt.Errorf("socks5: not a SOCKS5 reply (version byte %d)", head[0])
	}
	if head[1] != 0 {
		return &SocksError{Version: 5, Code: int(head[1])}
	}
	var n int
	switch head[3] {
	case 1:
		n = 4
	case 4:
		n = 16
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return fmt.Errorf("socks5: reading the reply: %w", err)
		}
		n = int(l[0])
	default:
		return fmt.Errorf("socks5: unknown address type %d in the reply", head[3])
	}
	rest := make([]byte, n+2)
	if _, err := io.ReadFull(r, rest); err != nil {
		return fmt.Errorf("socks5: reading the reply: %w", err)
	}
	return nil
}

// maxHTTPHeader bounds a proxy's response header.
const maxHTTPHeader = 16 << 10

// HTTPConnect asks an HTTP proxy for a tunnel to hostport, sending
// authorization as the Proxy-Authorization value when it is set (see
// package httpauth). It reads the response a byte at a time so that no
// byte of the tunnel is read ahead. A 407 comes back as an
// *AuthRequiredError carrying the proxy's challenges, so that a caller
// holding credentials can answer them on a new connection.
func HTTPConnect(rw io.ReadWriter, hostport, authorization string) error {
	req := "CONNECT " + hostport + " HTTP/1.1\r\nHost: " + hostport + "\r\n"
	if authorization != "" {
		req += "Proxy-Authorization: " + authorization + "\r\n"
	}
	if _, err := io.WriteString(rw, req+"\r\n"); err != nil {
		return fmt.Errorf("http proxy: %w", err)
	}
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") && !strings.HasSuffix(string(head), "\n\n") {
		if len(head) >= maxHTTPHeader {
			return fmt.Errorf("http proxy: response header longer than %d bytes", maxHTTPHeader)
		}
		if _, err := io.ReadFull(rw, b); err != nil {
			return fmt.Errorf("http proxy: reading the response: %w", err)
		}
		head = append(head, b[0])
	}
	err := httpStatus(string(head))
	if se := (*StatusError)(nil); errors.As(err, &se) && se.Code == 407 {
		return &AuthRequiredError{URI: hostport, Challenges: httpauth.ParseChallenges(headerValues(string(head), "proxy-authenticate")), err: err}
	}
	return err
}

// AuthRequiredError is an HTTP proxy's 407: it wants credentials, in one
// of the schemes of its challenges.
type AuthRequiredError struct {
	URI        string // the CONNECT target asked for, a Digest answer's uri
	Challenges []httpauth.Challenge
	err        error
}

func (e *AuthRequiredError) Error() string { return e.err.Error() }

// Unwrap returns the refusal, an ErrProxyRefused.
func (e *AuthRequiredError) Unwrap() error { return e.err }

// headerValues returns the values of the header fields named name (in
// lower case) in a response head.
func headerValues(head, name string) []string {
	var out []string
	lines := strings.Split(head, "\n")
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(strings.TrimRight(l, "\r"), ":")
		if ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// httpStatus checks the status line of a CONNECT response.
func httpStatus(head string) error {
	line, _, _ := strings.Cut(head, "\n")
	line = strings.TrimRight(line, "\r")
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/1.") {
		return fmt.Errorf("http proxy: not an HTTP response: %q", truncate(line))
	}
	code, _, _ := strings.Cut(rest, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '5' {
		return fmt.Errorf("http proxy: bad status in %q", truncate(line))
	}
	if code[0] != '2' {
		n, _ := strconv.Atoi(code)
		return fmt.Errorf("http proxy: %w", &StatusError{Code: n, Proto: proto, Status: truncate(rest)})
	}
	return nil
}

// ProxyDialError is a failure to reach the first proxy of a chain.
type ProxyDialError struct {
	Proxy string // host:port
	Err   error
}

func (e *ProxyDialError) Error() string { return fmt.Sprintf("proxy %s: %v", e.Proxy, e.Err) }

// Unwrap returns the dial's error.
func (e *ProxyDialError) Unwrap() error { return e.Err }

// StatusError is an HTTP proxy's refusal of a CONNECT: its status.
type StatusError struct {
	Code   int    // 403, 407, 504, ...
	Proto  string // the response's version, "HTTP/1.0" or "HTTP/1.1"
	Status string // the status line after the version ("407 Proxy Authentication Required")
}

func (e *StatusError) Error() string { return fmt.Sprintf("%v (%s)", ErrProxyRefused, e.Status) }

// Is makes a StatusError an ErrProxyRefused.
func (e *StatusError) Is(target error) bool { return target == ErrProxyRefused }

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// dialVia reaches host:port through a chain of proxies, given as via
// options ("socks5://user:pass@10.0.0.1:1080", "http://proxy:3128",
// "socks4://..."), tried in order: the first is dialled, each next one is
// reached through the ones before, and the last connects to the target.
// dns says where the target's name is resolved (ncat's --proxy-dns):
// "remote" (the default: the last proxy), "local", "both" (local first),
// or "none" (the target must be an address).
func dialVia(ctx context.Context, s address.Spec, host, port string) (stream.Conn, error) {
	vias := all(s, "via")
	hops := make([]*url.URL, len(vias))
	answers := make([]string, len(vias)) // each HTTP hop's Proxy-Authorization
	for i, v := range vias {
		u, err := parseVia(v)
		if err != nil {
			return nil, err
		}
		hops[i] = u
		if u.Scheme == "http" && u.User != nil && u.Query().Get("auth") == "basic" {
			pass, _ := u.User.Password()
			answers[i] = httpauth.Basic(u.User.Username(), pass) // socat's way: with the first request
		}
	}
	// An HTTP hop is asked without credentials first, as ncat does, and
	// answered (Digest before Basic) on a new connection when it
	// challenges, so that no password goes out in clear to a proxy that
	// takes Digest. Each hop is answered once, or, when its password
	// comes from a PasswordFunc, asked for up to maxPrompts times.
	prompt, _ := ctx.Value(passwordKey{}).(PasswordFunc)
	prompts := make([]int, len(hops))
	for {
		conn, i, err := dialChain(ctx, s, hops, answers, host, port)
		var need *AuthRequiredError
		if err == nil || !errors.As(err, &need) || hops[i].User == nil {
			return conn, err
		}
		user := hops[i].User.Username()
		pass, given := hops[i].User.Password()
		switch {
		case !given && prompt != nil:
			if prompts[i] == maxPrompts {
				return nil, fmt.Errorf("proxy %s: %w", hops[i].Host, ErrTooManyAuthFailures)
			}
			if pass, err = prompt(user, hops[i].Host, prompts[i]); err != nil {
				return nil, err
			}
			prompts[i]++
		case answers[i] != "":
			return conn, err
		}
		answers[i], err = httpauth.Answer(need.Challenges, user, pass, "CONNECT", need.URI)
		if err != nil {
			return nil, fmt.Errorf("proxy %s: %w", hops[i].Host, err)
		}
	}
}

// maxPrompts is how many times a PasswordFunc is asked for one proxy:
// OpenBSD nc's three.
const maxPrompts = 3

// ErrTooManyAuthFailures is a proxy's refusal of every password a
// PasswordFunc gave.
var ErrTooManyAuthFailures = errors.New("too many authentication failures")

// PasswordFunc supplies the password of user at an HTTP proxy (host:port)
// that asks for credentials, when its via option names the user without
// a password. refused counts the answers the proxy has turned down.
type PasswordFunc func(user, proxy string, refused int) (string, error)

type passwordKey struct{}

// WithPasswordFunc returns a context under which Dial asks f for proxy
// passwords that the address leaves out, as nc -P asks on the terminal.
func WithPasswordFunc(ctx context.Context, f PasswordFunc) context.Context {
	return context.WithValue(ctx, passwordKey{}, f)
}

// dialChain dials the first hop and asks each in turn for the next; on
// failure it says which hop failed.
func dialChain(ctx context.Context, s address.Spec, hops []*url.URL, answers []string, host, port string) (stream.Conn, int, error) {
	first := s
	first.Kind, first.Args = address.TCP, []string{hops[0].Hostname(), hops[0].Port()}
	first.Options = withoutVia(s.Options)
	c, err := dialTCP(ctx, first)
	if err != nil {
		return nil, 0, &ProxyDialError{Proxy: hops[0].Host, Err: err}
	}
	conn := c.(*net.TCPConn)
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
		defer conn.SetDeadline(noDeadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for i, hop := range hops {
		nextHost, nextPort := host, port
		if i+1 < len(hops) {
			nextHost, nextPort = hops[i+1].Hostname(), hops[i+1].Port()
		}
		if err := handshake(ctx, conn, hop, answers[i], nextHost, nextPort, opt(s, "proxy-dns"), i+1 == len(hops)); err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return nil, i, ctx.Err()
			}
			return nil, i, fmt.Errorf("proxy %s: %w", hop.Host, err)
		}
	}
	return conn, 0, nil
}

func withoutVia(opts []address.Option) []address.Option {
	var out []address.Option
	for _, o := range opts {
		if o.Name != "via" && o.Name != "proxy-dns" {
			out = append(out, o)
		}
	}
	return out
}

// parseVia reads one hop: scheme://[user:pass@]host[:port], with ncat's
// default ports (HTTP 3128, SOCKS 1080).
func parseVia(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("proxy %q: want TYPE://[USER:PASS@]HOST[:PORT]", v)
	}
	def := "1080"
	switch u.Scheme {
	case "http":
		def = "3128"
	case "socks4", "socks4a", "socks5":
	default:
		return nil, fmt.Errorf("proxy %q: type %q is not http, socks4, socks4a or socks5", v, u.Scheme)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), def)
	}
	return u, nil
}

// handshake asks one proxy to connect to host:port; authorization is
// what an HTTP proxy is sent as Proxy-Authorization.
func handshake(ctx context.Context, rw io.ReadWriter, hop *url.URL, authorization, host, port, dns string, last bool) error {
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("bad port %q", port)
	}
	if last {
		network := "ip"
		if hop.Scheme == "socks4" {
			network = "ip4" // SOCKS4 carries IPv4 addresses only
		}
		if host, err = resolveFor(ctx, host, dns, network); err != nil {
			return err
		}
	}
	user, pass := hop.User.Username(), ""
	if pw, ok := hop.User.Password(); ok {
		pass = pw
	}
	switch hop.Scheme {
	case "http":
		return HTTPConnect(rw, net.JoinHostPort(host, port), authorization)
	case "socks5":
		return Socks5(rw, host, uint16(p), user, pass)
	default: // socks4, socks4a
		if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().Is4() {
			return Socks4(rw, ip.Unmap(), "", uint16(p), user)
		}
		if hop.Scheme == "socks4" && dns == "local" {
			return fmt.Errorf("socks4 needs an IPv4 address for %q", host)
		}
		return Socks4(rw, netip.Addr{}, host, uint16(p), user) // 4A: the proxy resolves
	}
}

// resolveFor applies --proxy-dns to the target's host.
func resolveFor(ctx context.Context, host, dns, network string) (string, error) {
	if _, err := netip.ParseAddr(host); err == nil {
		return host, nil
	}
	switch dns {
	case "", "remote":
		return host, nil
	case "none":
		return "", fmt.Errorf("%q is a name and --proxy-dns none forbids resolving it", host)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		if dns == "both" {
			return host, nil // let the proxy try
		}
		return "", err
	}
	return ips[0].Unmap().String(), nil
}
