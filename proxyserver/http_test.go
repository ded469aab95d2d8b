package proxyserver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/httpauth"
)

// origin is a loopback HTTP server that records the raw bytes of each
// request it reads (head and body as framed) and answers with a canned
// response, without closing until the client does.
type origin struct {
	addr  string
	reply string
	mu    sync.Mutex
	got   []string
}

func newOrigin(t *testing.T, reply string) *origin {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	o := &origin{addr: ln.Addr().String(), reply: reply}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var raw bytes.Buffer
				br := bufio.NewReader(io.TeeReader(c, &raw))
				req, err := http.ReadRequest(br)
				if err == nil {
					io.Copy(io.Discard, req.Body)
				}
				o.mu.Lock()
				o.got = append(o.got, raw.String()[:raw.Len()-br.Buffered()])
				o.mu.Unlock()
				io.WriteString(c, o.reply)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				io.Copy(io.Discard, c) // keep-alive: the proxy must end it
			}()
		}
	}()
	return o
}

func (o *origin) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.got...)
}

// serveTCP runs s on a loopback listener and returns its address.
func serveTCP(t *testing.T, s *Server) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.Serve(ctx, c) })
		}
	})
	return ln.Addr().String()
}

// exchange sends in to the proxy, half-closes, and
// returns everything the proxy sends until it closes.
func exchange(t *testing.T, proxy, in string) string {
	t.Helper()
	c, err := net.Dial("tcp4", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go func() {
		io.WriteString(c, in)
		c.(*net.TCPConn).CloseWrite()
	}()
	out, err := io.ReadAll(c)
	if err != nil {
		t.Errorf("reading the proxy's answer to %.40q: %v", in, err)
	}
	return string(out)
}

func status(reply string) string {
	line, _, _ := strings.Cut(reply, "\r\n")
	return strings.TrimPrefix(line, "HTTP/1.1 ")
}

func TestHTTPRefusals(t *testing.T) {
	open := serveTCP(t, &Server{Type: "http", Handshake: 5 * time.Second})
	_, self, _ := net.SplitHostPort(open)
	ncat := serveTCP(t, &Server{Type: "http", Methods: []string{"GET", "HEAD", "POST"}})
	v4 := serveTCP(t, &Server{Type: "http", Network: "tcp4"})
	v6origin := "[::1]:9"
	if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		defer ln.Close()
		v6origin = ln.Addr().String()
	}
	long := strings.Repeat("a", maxRequestLine)
	tests := []struct {
		name, proxy, in, want string
	}{
		{"connect without port", open, "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", "400 Bad Request"},
		{"connect port 0", open, "CONNECT 127.0.0.1:0 HTTP/1.1\r\n\r\n", "400 Bad Request"},
		{"connect empty host", open, "CONNECT :80 HTTP/1.1\r\n\r\n", "400 Bad Request"},
		{"unknown method", open, "FOO http://127.0.0.1/ HTTP/1.1\r\n\r\n", "405 Method Not Allowed"},
		{"ncat's methods", ncat, "PUT http://127.0.0.1/ HTTP/1.1\r\n\r\n", "405 Method Not Allowed"},
		{"origin-form", open, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "400 Bad Request"},
		{"https url", open, "GET https://127.0.0.1/ HTTP/1.1\r\n\r\n", "400 Bad Request"},
		{"user info", open, "GET http://u:p@127.0.0.1/ HTTP/1.1\r\n\r\n", "400 Bad Request"},
		{"long request line", open, "GET http://127.0.0.1/" + long + " HTTP/1.1\r\n\r\n", "414 Request URI Too Long"},
		{"long header", open, "GET http://127.0.0.1/ HTTP/1.1\r\nX: " + strings.Repeat(long, 9) + "\r\n\r\n", "431 Request Header Fields Too Large"},
		{"many headers", open, "GET http://127.0.0.1/ HTTP/1.1\r\n" + strings.Repeat("X: "+long[:1000]+"\r\n", 70) + "\r\n", "431 Request Header Fields Too Large"},
		{"line folding", open, "GET http://127.0.0.1/ HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "400 Bad Request"},
		{"space before colon", open, "GET http://127.0.0.1/ HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request"},
		{"control character", open, "GET http://127.0.0.1/ HTTP/1.1\r\nX: a\x00b\r\n\r\n", "400 Bad Request"},
		{"http/2", open, "GET http://127.0.0.1/ HTTP/2.0\r\n\r\n", "505 HTTP Version Not Supported"},
		{"not http", open, "hello there\r\n\r\n", "400 Bad Request"},
		{"te and cl", open, "POST http://127.0.0.1/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "400 Bad Request"},
		{"te not chunked", open, "POST http://127.0.0.1/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "400 Bad Request"},
		{"cl differ", open, "POST http://127.0.0.1/ HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "400 Bad Request"},
		{"cl signed", open, "POST http://127.0.0.1/ HTTP/1.1\r\nContent-Length: +3\r\n\r\n", "400 Bad Request"},
		{"loop get", open, "GET http://127.0.0.1:" + self + "/ HTTP/1.1\r\n\r\n", "403 Forbidden"},
		{"loop by name", open, "GET http://localhost:" + self + "/ HTTP/1.1\r\n\r\n", "403 Forbidden"},
		{"loop connect", open, "CONNECT 127.0.0.1:" + self + " HTTP/1.1\r\n\r\n", "403 Forbidden"},
		{"refused", open, "CONNECT 127.0.0.1:1 HTTP/1.1\r\n\r\n", "504 Gateway Timeout"},
		{"-4 forbids ipv6", v4, "CONNECT " + v6origin + " HTTP/1.1\r\n\r\n", "504 Gateway Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exchange(t, tt.proxy, tt.in)
			if status(got) != tt.want {
				t.Errorf("status %q; want %q (reply %.200q)", status(got), tt.want, got)
			}
			if tt.want[:3] == "405" && !strings.Contains(got, "\r\nAllow: CONNECT, ") {
				t.Errorf("405 without Allow: %q", got)
			}
		})
	}
}

func TestHTTPForward(t *testing.T) {
	const okReply = "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nhello"
	tests := []struct {
		name, reply, in string
		wantUp          string // what the origin reads; HOST stands for its address
		wantDown        string // what the client reads
	}{{
		name:  "hop-by-hop and repeats",
		reply: okReply,
		in: "GET http://HOST/p?q=1#frag HTTP/1.1\r\nHost: elsewhere\r\nConnection: close, X-Foo\r\nX-Foo: 1\r\nKeep-Alive: 5\r\n" +
			"Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nAccept: a\r\nAccept: b\r\nCookie: a=1\r\nCookie: b=2\r\nVia: 1.0 other\r\n\r\n",
		wantUp:   "GET /p?q=1 HTTP/1.1\r\nHost: HOST\r\nAccept: a, b\r\nCookie: a=1; b=2\r\nVia: 1.0 other, 1.1 sockit\r\nConnection: close\r\n\r\n",
		wantDown: "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	}, {
		name:     "content-length body",
		reply:    okReply,
		in:       "POST http://HOST HTTP/1.0\r\nContent-Length: 11\r\n\r\nhello\r\nbody",
		wantUp:   "POST / HTTP/1.1\r\nHost: HOST\r\nContent-Length: 11\r\nVia: 1.1 sockit\r\nConnection: close\r\n\r\nhello\r\nbody",
		wantDown: "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
	}, {
		name:     "chunked body with extension and trailer",
		reply:    "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		in:       "PUT http://HOST/up HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: T\r\n\r\n4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n",
		wantUp:   "PUT /up HTTP/1.1\r\nHost: HOST\r\nTransfer-Encoding: chunked\r\nVia: 1.1 sockit\r\nConnection: close\r\n\r\n4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n",
		wantDown: "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
	}, {
		name:     "100 continue then the answer",
		reply:    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
		in:       "POST http://HOST/ HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
		wantUp:   "POST / HTTP/1.1\r\nHost: HOST\r\nExpect: 100-continue\r\nContent-Length: 2\r\nVia: 1.1 sockit\r\nConnection: close\r\n\r\nok",
		wantDown: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX: y\r\nConnection: close\r\n\r\n",
	}, {
		name:     "head has no body",
		reply:    "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
		in:       "HEAD http://HOST/ HTTP/1.1\r\n\r\n",
		wantUp:   "HEAD / HTTP/1.1\r\nHost: HOST\r\nVia: 1.1 sockit\r\nConnection: close\r\n\r\n",
		wantDown: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nConnection: close\r\n\r\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, tt.reply)
			proxy := serveTCP(t, &Server{Type: "http"})
			got := exchange(t, proxy, strings.ReplaceAll(tt.in, "HOST", o.addr))
			if got != tt.wantDown {
				t.Errorf("client got\n%q\nwant\n%q", got, tt.wantDown)
			}
			up := o.requests()
			if want := strings.ReplaceAll(tt.wantUp, "HOST", o.addr); len(up) != 1 || up[0] != want {
				t.Errorf("origin got\n%q\nwant\n%q", up, want)
			}
		})
	}
}

// TestHTTPAuth: Basic in any case and base64 padding, Digest with and
// without qop, and the refusals: wrong password, replayed count.
func TestHTTPAuth(t *testing.T) {
	o := newOrigin(t, "")
	s := &Server{Type: "http", Auth: "bob:pw1"}
	proxy := serveTCP(t, s)
	connect := "CONNECT " + o.addr + " HTTP/1.1\r\n"
	ask := func(auth string) string {
		return status(exchange(t, proxy, connect+"Proxy-Authorization: "+auth+"\r\n\r\n"))
	}
	challenge := func() []httpauth.Challenge {
		got := exchange(t, proxy, connect+"\r\n")
		if status(got) != "407 Proxy Authentication Required" {
			t.Fatalf("no 407: %q", got)
		}
		var values []string
		for line := range strings.SplitSeq(got, "\r\n") {
			if v, ok := strings.CutPrefix(line, "Proxy-Authenticate: "); ok {
				values = append(values, v)
			}
		}
		return httpauth.ParseChallenges(values)
	}
	chs := challenge()
	if len(chs) != 2 || chs[0].Scheme != "basic" || chs[1].Scheme != "digest" || chs[1].Params["qop"] != "auth" {
		t.Fatalf("challenges %+v; want Basic then Digest with qop=auth", chs)
	}
	const ok = "200 Connection established"
	for name, tt := range map[string]struct{ auth, want string }{
		"basic":           {"Basic Ym9iOnB3MQ==", ok},
		"basic lowercase": {"basic Ym9iOnB3MQ==", ok},
		"basic upper":     {"BASIC   Ym9iOnB3MQ==", ok},
		"basic unpadded":  {"Basic Ym9iOnB3MQ", ok},
		"basic wrong":     {httpauth.Basic("bob", "pw2"), "407 Proxy Authentication Required"},
		"basic not b64":   {"Basic !!!", "407 Proxy Authentication Required"},
		"other scheme":    {"Bearer abc", "407 Proxy Authentication Required"},
	} {
		if got := ask(tt.auth); got != tt.want {
			t.Errorf("%s (%q): %q; want %q", name, tt.auth, got, tt.want)
		}
	}
	digest, _ := httpauth.Digest(challenge()[1], "bob", "pw1", "CONNECT", o.addr)
	if got := ask(digest); got != ok {
		t.Errorf("digest qop=auth: %q (%s)", got, digest)
	}
	if got := ask(digest); got == ok {
		t.Errorf("a replayed digest answer got through")
	}
	noQop := challenge()[1]
	delete(noQop.Params, "qop")
	digest, _ = httpauth.Digest(noQop, "bob", "pw1", "CONNECT", o.addr)
	if got := ask(digest); got != ok {
		t.Errorf("digest without qop: %q (%s)", got, digest)
	}
	digest, _ = httpauth.Digest(challenge()[1], "bob", "guess", "CONNECT", o.addr)
	if got := ask(digest); got == ok {
		t.Errorf("a wrong digest password got through")
	}
	digest, _ = httpauth.Digest(challenge()[1], "bob", "pw1", "CONNECT", "127.0.0.1:1")
	if got := ask(digest); got == ok {
		t.Errorf("a digest for another uri got through")
	}
}

func TestNonceBook(t *testing.T) {
	var b nonceBook
	now := time.Now()
	n := b.issue(now)
	if err := b.use(n, "00000001", now); err != nil {
		t.Fatal(err)
	}
	if err := b.use(n, "00000001", now); err == nil {
		t.Error("count reused")
	}
	if err := b.use(n, "00000002", now); err != nil {
		t.Error(err)
	}
	if err := b.use(n, "", now.Add(nonceLife+time.Second)); err != errStale {
		t.Errorf("old nonce: %v; want stale", err)
	}
	if err := b.use("1."+n[2:], "", now); err == nil {
		t.Error("forged nonce accepted")
	}
	var other nonceBook
	if err := other.use(n, "", now); err == nil {
		t.Error("another proxy's nonce accepted")
	}
}

// FuzzReadHead: any bytes are a request head or an error, and a head
// read is within the limits.
func FuzzReadHead(f *testing.F) {
	for _, s := range []string{"GET http://a/ HTTP/1.1\r\nA: b\r\n\r\n", "CONNECT a:1 HTTP/1.0\n\n", "\r\nX y HTTP/1.1\r\n\r\n",
		"POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReader(strings.NewReader(in))
		m, err := readHead(br, true)
		if err != nil {
			return
		}
		if len(m.first[0]) == 0 || !isToken(m.first[0]) {
			t.Fatalf("method %q", m.first[0])
		}
		for _, f := range m.fields {
			if !isToken(f.name) || strings.ContainsAny(f.value, "\r\n") {
				t.Fatalf("field %q", f)
			}
		}
		if fr, err := requestFraming(m); err == nil && fr.chunked {
			var out bytes.Buffer
			copyBody(bufio.NewWriter(&out), br, fr)
		}
	})
}
