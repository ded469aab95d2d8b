package endpoint

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
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
	if err := HTTPConnect(s, "db.example:5432", "user:pw"); err != nil {
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
