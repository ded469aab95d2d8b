package proxyserver

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// run serves one client over an in-memory conn: the client writes in
// and closes; Serve must return, whatever in holds.
func run(t testing.TB, s *Server, in []byte) (reply string, err error) {
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), server) }()
	go func() {
		client.Write(in)
	}()
	var b strings.Builder
	buf := make([]byte, 512)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, rerr := client.Read(buf)
		b.Write(buf[:n])
		if rerr != nil {
			break
		}
	}
	client.Close()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("Serve did not return for input %q", in)
	}
	return b.String(), err
}

func noDial(context.Context, string, string) (net.Conn, error) {
	return nil, &net.OpError{Op: "dial", Err: errors.New("no network in this test")}
}

func TestSOCKS5Refusals(t *testing.T) {
	s := &Server{Type: "socks5", Auth: "bob:pw", Dial: noDial, Handshake: time.Second}
	tests := map[string]string{
		"\x05\x01\x00":                   "\x05\xff",         // only no-auth offered
		"\x05\x01\x02\x01\x03bob\x03bad": "\x05\x02\x01\x01", // wrong password
		"\x05\x01\x02\x01\x03bob\x02pw\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50": "\x05\x02\x01\x00\x05\x07", // BIND
		"\x05\x01\x02\x01\x03bob\x02pw\x05\x01\x00\x09":                         "\x05\x02\x01\x00\x05\x08", // bad address type
		"\x05\x01\x02\x01\x03bob\x02pw\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50": "\x05\x02\x01\x00\x05\x04", // dial fails
		"\x04\x01\x00\x50": "", // SOCKS4: closed without a reply
	}
	for in, want := range tests {
		got, err := run(t, s, []byte(in))
		if err == nil || !strings.HasPrefix(got, want) {
			t.Errorf("%q: reply %q, err %v; want prefix %q", in, got, err, want)
		}
	}
}

// TestSilentClient: a client that never speaks is dropped at the
// handshake deadline.
func TestSilentClient(t *testing.T) {
	for _, typ := range []string{"http", "socks5"} {
		client, server := net.Pipe()
		defer client.Close()
		s := &Server{Type: typ, Handshake: 50 * time.Millisecond, Dial: noDial}
		done := make(chan error, 1)
		go func() { done <- s.Serve(context.Background(), server) }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: a silent client got through", typ)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Serve still waits on a silent client", typ)
		}
	}
}

// FuzzServe: any bytes from a client end in a refusal or a tunnel
// attempt, never a panic or a hang.
func FuzzServe(f *testing.F) {
	for _, s := range []string{"CONNECT a:1 HTTP/1.1\r\n\r\n", "GET http://a/ HTTP/1.0\r\n\r\n",
		"\x05\x01\x00\x05\x01\x00\x03\x01a\x00\x50", "\x05\x01\x02\x01\x01a\x01b", ""} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, in string, socks bool) {
		typ := "http"
		if socks {
			typ = "socks5"
		}
		run(t, &Server{Type: typ, Auth: "a:b", Dial: noDial, Handshake: 200 * time.Millisecond}, []byte(in))
	})
}
