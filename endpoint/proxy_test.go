package endpoint

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/internal/httpauth"
)

// script is a fake proxy: it records what the client writes and replies
// with canned bytes.
type script struct {
	reply *bytes.Reader
	sent  bytes.Buffer
}

func (s *script) Read(p []byte) (int, error)  { return s.reply.Read(p) }
func (s *script) Write(p []byte) (int, error) { return s.sent.Write(p) }

func fake(reply string) *script { return &script{reply: bytes.NewReader([]byte(reply))} }

func TestSocks4(t *testing.T) {
	s := fake("\x00\x5a\x00\x00\x00\x00\x00\x00")
	if err := Socks4(s, netip.MustParseAddr("127.0.0.1"), "", 80, "me"); err != nil {
		t.Fatal(err)
	}
	if want := "\x04\x01\x00\x50\x7f\x00\x00\x01me\x00"; s.sent.String() != want {
		t.Errorf("sent %q, want %q", s.sent.String(), want)
	}
	s = fake("\x00\x5a\x00\x00\x00\x00\x00\x00")
	Socks4(s, netip.Addr{}, "db.example", 5432, "")
	if want := "\x04\x01\x15\x38\x00\x00\x00\x01\x00db.example\x00"; s.sent.String() != want {
		t.Errorf("4A sent %q, want %q", s.sent.String(), want)
	}
	if err := Socks4(fake("\x00\x5b\x00\x00\x00\x00\x00\x00"), netip.MustParseAddr("10.0.0.1"), "", 1, ""); !errors.Is(err, ErrProxyRefused) {
		t.Errorf("rejection: %v", err)
	}
	if err := Socks4(fake("\x00\x5a"), netip.MustParseAddr("10.0.0.1"), "", 1, ""); err == nil {
		t.Error("a short reply was accepted")
	}
}

func TestSocks5(t *testing.T) {
	// No authentication, a domain name, a reply with an IPv4 bound address.
	s := fake("\x05\x00" + "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38" + "tunnel bytes")
	if err := Socks5(s, "db.example", 5432, "", ""); err != nil {
		t.Fatal(err)
	}
	if want := "\x05\x01\x00" + "\x05\x01\x00\x03\x0adb.example\x15\x38"; s.sent.String() != want {
		t.Errorf("sent %q, want %q", s.sent.String(), want)
	}
	if rest, _ := io.ReadAll(s.reply); string(rest) != "tunnel bytes" {
		t.Errorf("the handshake read into the tunnel: %q left", rest)
	}
	// User name and password, an IPv6 target.
	s = fake("\x05\x02" + "\x01\x00" + "\x05\x00\x00\x04" + strings.Repeat("\x00", 16) + "\x00\x50")
	if err := Socks5(s, "[::1]", 80, "u", "pw"); err != nil {
		t.Fatal(err)
	}
	if want := "\x05\x02\x00\x02" + "\x01\x01u\x02pw" + "\x05\x01\x00\x04" + strings.Repeat("\x00", 15) + "\x01\x00\x50"; s.sent.String() != want {
		t.Errorf("sent %q, want %q", s.sent.String(), want)
	}
	for name, reply := range map[string]string{
		"no method":     "\x05\xff",
		"bad password":  "\x05\x02\x01\x01",
		"refused":       "\x05\x00\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00",
		"not socks5":    "HTTP/1.1 400",
		"short":         "\x05\x00\x05\x00\x00\x01\x7f",
		"bad addr type": "\x05\x00\x05\x00\x00\x09",
	} {
		if err := Socks5(fake(reply), "h", 1, "u", "p"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHTTPConnect(t *testing.T) {
	s := fake("HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\ntunnel")
	if err := HTTPConnect(s, "db.example:5432", "Basic dXNlcjpwdw=="); err != nil {
		t.Fatal(err)
	}
	want := "CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\nProxy-Authorization: Basic dXNlcjpwdw==\r\n\r\n"
	if s.sent.String() != want {
		t.Errorf("sent %q, want %q", s.sent.String(), want)
	}
	if rest, _ := io.ReadAll(s.reply); string(rest) != "tunnel" {
		t.Errorf("read into the tunnel: %q left", rest)
	}
	for name, reply := range map[string]string{
		"forbidden": "HTTP/1.0 403 Forbidden\r\n\r\n",
		"auth":      "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
		"garbage":   "SSH-2.0-OpenSSH\r\n\r\n",
		"cut":       "HTTP/1.1 200 OK\r\n",
		"huge":      "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: y\r\n", 2000),
	} {
		if err := HTTPConnect(fake(reply), "h:1", ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	err := HTTPConnect(fake("HTTP/1.0 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"r\"\r\n"+
		"Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\n\r\n"), "h:1", "")
	var need *AuthRequiredError
	if !errors.As(err, &need) || !errors.Is(err, ErrProxyRefused) {
		t.Fatalf("407: %v (%T), want an *AuthRequiredError that is an ErrProxyRefused", err, err)
	}
	if need.URI != "h:1" || len(need.Challenges) != 2 || need.Challenges[0].Scheme != "basic" || need.Challenges[1].Params["nonce"] != "n" {
		t.Errorf("407 read as %+v", need)
	}
}

// TestDialViaAnswersChallenge: through an HTTP proxy that wants
// credentials, the client asks without them first, then answers the
// proxy's challenge on a new connection, Digest before Basic; socat's
// PROXY address sends Basic at once. A proxy that refuses the answer ends
// the dial after one retry.
func TestDialViaAnswersChallenge(t *testing.T) {
	digest := `Digest realm="r", nonce="abc", qop="auth", opaque="o"`
	tests := []struct {
		name       string
		addr       string // %s is the proxy's port
		challenges []string
		want       []string // the scheme each connection authorized with ("" for none)
		ok         bool
		prompt     []string // the passwords a PasswordFunc gives in turn
	}{
		{"digest preferred", "TCP:127.0.0.1:7,via=http://bob:pw@127.0.0.1:%s", []string{`Basic realm="r"`, digest}, []string{"", "digest"}, true, nil},
		{"digest without qop", "TCP:127.0.0.1:7,via=http://bob:pw@127.0.0.1:%s", []string{`Digest realm="r", nonce="abc"`}, []string{"", "digest"}, true, nil},
		{"basic only", "TCP:127.0.0.1:7,via=http://bob:pw@127.0.0.1:%s", []string{`Basic realm="r"`}, []string{"", "basic"}, true, nil},
		{"wrong password", "TCP:127.0.0.1:7,via=http://bob:guess@127.0.0.1:%s", []string{digest}, []string{"", "digest"}, false, nil},
		{"no credentials", "TCP:127.0.0.1:7,via=http://127.0.0.1:%s", []string{digest}, []string{""}, false, nil},
		{"unknown scheme", "TCP:127.0.0.1:7,via=http://bob:pw@127.0.0.1:%s", []string{`Negotiate`}, []string{""}, false, nil},
		{"socat sends basic at once", "PROXY:127.0.0.1:127.0.0.1:7,proxyport=%s,proxyauth=bob:pw", []string{`Basic realm="r"`}, []string{"basic"}, true, nil},
		{"password asked for", "TCP:127.0.0.1:7,via=http://bob@127.0.0.1:%s", []string{digest}, []string{"", "digest"}, true, []string{"pw"}},
		{"asked again when refused", "TCP:127.0.0.1:7,via=http://bob@127.0.0.1:%s", []string{`Basic realm="r"`}, []string{"", "basic", "basic", "basic"}, true, []string{"x", "y", "pw"}},
		{"three refusals", "TCP:127.0.0.1:7,via=http://bob@127.0.0.1:%s", []string{digest}, []string{"", "digest", "digest", "digest"}, false, []string{"x", "y", "z"}},
		{"given password not asked for", "TCP:127.0.0.1:7,via=http://bob:guess@127.0.0.1:%s", []string{digest}, []string{"", "digest"}, false, []string{"pw"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			seen := make(chan []string, 1)
			go func() {
				var schemes []string
				defer func() { seen <- schemes }()
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					scheme, good := checkProxyAuth(c, "bob", "pw")
					schemes = append(schemes, scheme)
					if good {
						io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\nhello")
						c.Close()
						return
					}
					io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: "+
						strings.Join(tt.challenges, "\r\nProxy-Authenticate: ")+"\r\nContent-Length: 0\r\n\r\n")
					c.Close()
				}
			}()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var refusals []int
			if tt.prompt != nil {
				ctx = WithPasswordFunc(ctx, func(user, proxy string, refused int) (string, error) {
					if user != "bob" || proxy != "127.0.0.1:"+port {
						t.Errorf("asked for the password of %s at %s", user, proxy)
					}
					refusals = append(refusals, refused)
					if refused >= len(tt.prompt) {
						return "", errors.New("asked too often")
					}
					return tt.prompt[refused], nil
				})
			}
			c, err := Dial(ctx, address.MustParse(fmt.Sprintf(tt.addr, port)))
			if tt.prompt != nil && !tt.ok && len(tt.prompt) == 3 && !errors.Is(err, ErrTooManyAuthFailures) {
				t.Errorf("dial: %v, want %v", err, ErrTooManyAuthFailures)
			}
			asked := 0 // once for each challenge, when the address has no password
			if strings.Contains(tt.addr, "bob@") {
				asked = len(tt.want) - 1
			}
			if len(refusals) != asked {
				t.Errorf("asked %d times (%v), want %d", len(refusals), refusals, asked)
			}
			if err == nil {
				b, _ := io.ReadAll(c)
				c.Close()
				if string(b) != "hello" {
					t.Errorf("tunnel carried %q", b)
				}
			}
			ln.Close()
			if got := <-seen; fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("connections authorized with %q, want %q", got, tt.want)
			}
			if (err == nil) != tt.ok {
				t.Errorf("dial: %v, want success %v", err, tt.ok)
			}
		})
	}
}

// checkProxyAuth reads a CONNECT request and checks its credentials
// against user and pass, returning the scheme they were given in.
func checkProxyAuth(c net.Conn, user, pass string) (scheme string, good bool) {
	br := bufio.NewReader(c)
	line, _ := br.ReadString('\n')
	_, uri, _ := strings.Cut(strings.TrimSpace(line), " ")
	uri, _, _ = strings.Cut(uri, " ")
	var auth string
	for {
		l, err := br.ReadString('\n')
		if err != nil || strings.TrimSpace(l) == "" {
			break
		}
		if k, v, _ := strings.Cut(l, ":"); strings.EqualFold(k, "Proxy-Authorization") {
			auth = strings.TrimSpace(v)
		}
	}
	if auth == "" {
		return "", false
	}
	cr, err := httpauth.ParseCredentials(auth)
	if err != nil {
		return "bad", false
	}
	switch cr.Scheme {
	case "basic":
		u, p, err := httpauth.DecodeBasic(cr.Token)
		return "basic", err == nil && u == user && p == pass
	case "digest":
		want, err := httpauth.Response(cr.Params, user, pass, "CONNECT", uri)
		return "digest", err == nil && cr.Params["uri"] == uri && cr.Params["response"] == want && cr.Params["nonce"] == "abc"
	}
	return cr.Scheme, false
}

// FuzzProxyReplies feeds arbitrary server replies to every handshake:
// they may fail, but never panic or read past what they were sent.
func FuzzProxyReplies(f *testing.F) {
	for _, s := range []string{"\x00\x5a\x00\x00\x00\x00\x00\x00", "\x05\x00\x05\x00\x00\x03\x05hello\x00\x50",
		"\x05\x02\x01\x00\x05\x00\x00\x01\x01\x02\x03\x04\x00\x50", "HTTP/1.1 200 OK\r\n\r\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		Socks4(fake(reply), netip.MustParseAddr("127.0.0.1"), "", 1, "u")
		Socks4(fake(reply), netip.Addr{}, "name", 1, "")
		Socks5(fake(reply), "name", 1, "", "")
		Socks5(fake(reply), "127.0.0.1", 1, "user", "pass")
		HTTPConnect(fake(reply), "h:1", "a:b")
	})
}
