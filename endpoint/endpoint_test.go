package endpoint_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/stream"
)

func spec(t *testing.T, s string) address.Spec {
	t.Helper()
	sp, err := address.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return sp
}

// dialSpec names the client side for a listener bound at ln.Addr().
type pairCase struct {
	name   string
	listen string
	dial   func(ln endpoint.Listener) string
}

func hostPortOf(ln endpoint.Listener) (string, string) {
	h, p, _ := net.SplitHostPort(ln.Addr().String())
	return h, p
}

func pairCases(t *testing.T) []pairCase {
	dir := t.TempDir()
	abstract := fmt.Sprintf("sockit-test-%d", time.Now().UnixNano())
	return []pairCase{
		{"tcp4", "TCP4-LISTEN:0,bind=127.0.0.1", func(ln endpoint.Listener) string {
			h, p := hostPortOf(ln)
			return "TCP:" + h + ":" + p
		}},
		{"tcp6", "TCP6-LISTEN:0,bind=[::1]", func(ln endpoint.Listener) string {
			_, p := hostPortOf(ln)
			return "TCP6:[::1]:" + p
		}},
		{"unix", "UNIX-LISTEN:" + filepath.Join(dir, "s"), func(endpoint.Listener) string {
			return "UNIX-CONNECT:" + filepath.Join(dir, "s")
		}},
		{"abstract", "ABSTRACT-LISTEN:" + abstract, func(endpoint.Listener) string {
			return "ABSTRACT-CONNECT:" + abstract
		}},
		{"udp", "UDP-LISTEN:0,bind=127.0.0.1", func(ln endpoint.Listener) string {
			h, p := hostPortOf(ln)
			return "UDP:" + h + ":" + p
		}},
		{"udp-fork", "UDP-LISTEN:0,bind=127.0.0.1,fork", func(ln endpoint.Listener) string {
			h, p := hostPortOf(ln)
			return "UDP:" + h + ":" + p
		}},
		{"unixgram", "UNIX-RECVFROM:" + filepath.Join(dir, "g"), func(endpoint.Listener) string {
			return "UNIX-SENDTO:" + filepath.Join(dir, "g")
		}},
		{"unixgram-fork", "UNIX-RECVFROM:" + filepath.Join(dir, "gf") + ",fork", func(endpoint.Listener) string {
			return "UNIX-SENDTO:" + filepath.Join(dir, "gf")
		}},
	}
}

// talk writes msg, half-closes, and reads to EOF.
func talk(c stream.Conn, msg string) (string, error) {
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	if err := c.CloseWrite(); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// TestListenDial opens every kind of listener, dials it, and checks a
// question and an answer each way with half-close between them.
func TestListenDial(t *testing.T) {
	ctx := context.Background()
	for _, tc := range pairCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := endpoint.Listen(ctx, spec(t, tc.listen))
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			client, err := endpoint.Dial(ctx, spec(t, tc.dial(ln)))
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			// A datagram listener learns of its peer from the first datagram.
			if _, err := client.Write([]byte("hello ")); err != nil {
				t.Fatal(err)
			}
			server, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			if server.RemoteAddr() == nil && !strings.HasPrefix(tc.name, "unix") && tc.name != "abstract" {
				t.Errorf("server conn has no remote address")
			}
			var got string
			var gerr error
			var wg sync.WaitGroup
			wg.Go(func() { got, gerr = talk(client, "server") })
			back, err := talk(server, "hello client")
			wg.Wait()
			if err != nil || gerr != nil {
				t.Fatalf("server: %v, client: %v", err, gerr)
			}
			if back != "hello server" || got != "hello client" {
				t.Fatalf("server got %q, client got %q", back, got)
			}
		})
	}
}

// TestPeerListener: a forking datagram listener accepts each source
// address once, keeps their datagrams apart, and answers from its own
// address; a peer closed on the server side comes back as a new one.
func TestPeerListener(t *testing.T) {
	ln, err := endpoint.Listen(context.Background(), spec(t, "UDP-LISTEN:0,bind=127.0.0.1,fork"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var peers []*net.UDPConn
	for i := range 3 {
		c, err := net.DialUDP("udp", nil, ln.Addr().(*net.UDPAddr))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("from " + strconv.Itoa(i)))
		peers = append(peers, c)
	}
	conns := map[string]stream.Conn{}
	for range 3 {
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		conns[s.RemoteAddr().String()] = s
	}
	for i, p := range peers {
		s := conns[p.LocalAddr().String()]
		if s == nil {
			t.Fatalf("peer %d (%v) was not accepted; have %v", i, p.LocalAddr(), conns)
		}
		buf := make([]byte, 64)
		n, _ := s.Read(buf)
		if want := "from " + strconv.Itoa(i); string(buf[:n]) != want {
			t.Errorf("peer %d's conn read %q", i, buf[:n])
		}
		s.Write([]byte("to " + strconv.Itoa(i)))
		p.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, from, err := p.ReadFromUDP(buf)
		if err != nil || string(buf[:n]) != "to "+strconv.Itoa(i) || from.String() != ln.Addr().String() {
			t.Errorf("peer %d got %q from %v, %v", i, buf[:n], from, err)
		}
		p.Write(nil) // end of stream
		if n, err := s.Read(buf); n != 0 || err != io.EOF {
			t.Errorf("peer %d's conn after empty datagram: %d, %v; want EOF", i, n, err)
		}
	}
	first := conns[peers[0].LocalAddr().String()]
	first.Close()
	peers[0].Write([]byte("again"))
	s, err := ln.Accept()
	if err != nil || s.RemoteAddr().String() != peers[0].LocalAddr().String() {
		t.Fatalf("after close, accept: %v, %v", s, err)
	}
	ln.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept after close: %v, want net.ErrClosed", err)
	}
}

// TestBacklog: backlog=N reaches listen(2), as ss reports it.
func TestBacklog(t *testing.T) {
	ss, err := exec.LookPath("ss")
	if err != nil {
		t.Skip("ss (iproute2) not installed")
	}
	ln, err := endpoint.Listen(context.Background(), spec(t, "TCP4-LISTEN:0,bind=127.0.0.1,backlog=5"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port := hostPortOf(ln)
	out, err := exec.Command(ss, "-ltnH", "sport = :"+port).Output()
	if err != nil {
		t.Fatal(err)
	}
	// LISTEN 0 5 127.0.0.1:port 0.0.0.0:*  (Send-Q is the backlog)
	if f := strings.Fields(string(out)); len(f) < 3 || f[2] != "5" {
		t.Fatalf("ss: %q, want a send queue (backlog) of 5", out)
	}
}

// TestErrors: failures wrap the system's error, so callers can test it.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	closed, _ := net.Listen("tcp4", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()
	tests := []struct {
		spec string
		dial bool
		want error
	}{
		{"TCP:" + refused, true, syscall.ECONNREFUSED},
		{"UNIX-CONNECT:" + filepath.Join(dir, "missing"), true, syscall.ENOENT},
		{"UNIX-LISTEN:" + filepath.Join(dir, "no", "such", "dir"), false, syscall.ENOENT},
		{"TCP-LISTEN:70000", false, nil},
		{"STDIO", false, nil},
	}
	for _, tt := range tests {
		var err error
		if tt.dial {
			var c stream.Conn
			c, err = endpoint.Dial(ctx, spec(t, tt.spec))
			if c != nil {
				c.Close()
			}
		} else {
			var ln endpoint.Listener
			ln, err = endpoint.Listen(ctx, spec(t, tt.spec))
			if ln != nil {
				ln.Close()
			}
		}
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.spec, err, tt.want)
		}
	}
}

// TestCommandGetsSocket: a child serving a TCP conn gets the descriptor
// itself (no pipes) and ncat's environment; over a datagram conn it gets
// pipes.
func TestCommandGetsSocket(t *testing.T) {
	ctx := context.Background()
	ln, err := endpoint.Listen(ctx, spec(t, "TCP4-LISTEN:0,bind=127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	h, p := hostPortOf(ln)
	client, err := endpoint.Dial(ctx, spec(t, "TCP:"+h+":"+p))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cmd := endpoint.Command{Argv: []string{`echo "$NCAT_PROTO $NCAT_LOCAL_PORT $NCAT_REMOTE_ADDR"; cat`}, Shell: true, Proto: "TCP"}
	child, pipes, err := cmd.Start(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	server.Close()
	if pipes != nil {
		t.Errorf("a TCP conn should go to the child as its descriptor, got pipes")
	}
	got, err := talk(client, "echoed\n")
	child.Wait()
	if want := "TCP " + p + " 127.0.0.1\nechoed\n"; got != want || err != nil {
		t.Errorf("child said %q (%v), want %q", got, err, want)
	}
}

// TestRange: a listener with range closes peers outside the prefix before
// Accept returns them.
func TestRange(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		prefix string
		admit  bool
	}{{"127.0.0.0/8", true}, {"10.0.0.0/8", false}} {
		ln, err := endpoint.Listen(ctx, spec(t, "TCP4-LISTEN:0,bind=127.0.0.1,range="+tc.prefix))
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan stream.Conn, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				accepted <- c
			}
			close(accepted)
		}()
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if tc.admit {
			s := <-accepted
			if s == nil {
				t.Fatalf("range %s: 127.0.0.1 was not admitted", tc.prefix)
			}
			s.Close()
		} else if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("range %s: 127.0.0.1 was not closed: %v", tc.prefix, err)
		}
		c.Close()
		ln.Close()
	}
}

// TestUnixOptions: unlink-early replaces a stale socket file, mode sets
// its permissions, and a regular file in the way is left alone.
func TestUnixOptions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s")
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close() // leaves the file behind, as a crashed server would
	if _, err := endpoint.Listen(ctx, spec(t, "UNIX-LISTEN:"+path)); err == nil {
		t.Fatal("binding over a stale socket file should fail without unlink-early")
	}
	ln, err := endpoint.Listen(ctx, spec(t, "UNIX-LISTEN:"+path+",unlink-early,mode=600"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode: %v, %v; want 0600", st.Mode().Perm(), err)
	}
	ln.Close()
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("keep me"), 0o644)
	if _, err := endpoint.Listen(ctx, spec(t, "UNIX-LISTEN:"+file+",unlink-early")); err == nil {
		t.Fatal("unlink-early removed a regular file")
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("the regular file changed: %q", b)
	}
}

// TestRetry: a refused connect is tried retry+1 times, then fails; a
// server that appears in the meantime is reached.
func TestRetry(t *testing.T) {
	ctx := context.Background()
	port := freeTCPPort(t)
	_, err := endpoint.Dial(ctx, spec(t, "TCP:127.0.0.1:"+port+",retry=2,interval=10ms"))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("retry against nothing: %v, want connection refused", err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		ln, err := net.Listen("tcp4", "127.0.0.1:"+port)
		if err != nil {
			return
		}
		defer ln.Close()
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // bounds forever
	defer cancel()
	c, err := endpoint.Dial(ctx, spec(t, "TCP:127.0.0.1:"+port+",forever,interval=20ms"))
	if err != nil {
		t.Fatalf("forever: %v", err)
	}
	c.Close()
}

func freeTCPPort(t *testing.T) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// TestPTYAddress: a PTY address is a terminal whose other side another
// program opens through the link; what it writes there, the conn reads.
func TestPTYAddress(t *testing.T) {
	link := filepath.Join(t.TempDir(), "tty")
	c, err := endpoint.Dial(context.Background(), spec(t, "PTY,link="+link+",raw,echo=0"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tty, err := os.OpenFile(link, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	tty.Write([]byte("from the other side\n"))
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(c, buf, len("from the other side\n"))
	if err != nil || string(buf[:n]) != "from the other side\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	c.Write([]byte("back\n"))
	n, err = io.ReadAtLeast(tty, buf, len("back\n"))
	if err != nil || string(buf[:n]) != "back\n" {
		t.Fatalf("the other side read %q, %v", buf[:n], err)
	}
	c.Close()
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Errorf("link left behind: %v", err)
	}
}

// holdingListener listens on 127.0.0.1 and holds every connection open
// until the test ends, so a client's socket options can be read back.
func holdingListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	return ln
}

// TestFileOptions: trunc empties a file on open, append writes at its end,
// and ignoreeof waits at the end of a file for more, until Close.
func TestFileOptions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("old contents\n"), 0o644)
	c, err := endpoint.Dial(ctx, spec(t, "OPEN:"+path+",trunc"))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("new\n"))
	c.Close()
	c, _ = endpoint.Dial(ctx, spec(t, "OPEN:"+path+",append"))
	c.Write([]byte("more\n"))
	c.Close()
	if b, _ := os.ReadFile(path); string(b) != "new\nmore\n" {
		t.Fatalf("file holds %q", b)
	}

	c, err = endpoint.Dial(ctx, spec(t, "OPEN:"+path+",ignoreeof"))
	if err != nil {
		t.Fatal(err)
	}
	want := "new\nmore\nlater\n"
	got := make(chan string, 1)
	go func() {
		b := make([]byte, len(want))
		n, _ := io.ReadFull(c, b) // past the end of the file: waits for "later"
		got <- string(b[:n])
	}()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte("later\n"))
	f.Close()
	select {
	case b := <-got:
		if b != want {
			t.Errorf("ignoreeof read %q", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ignoreeof never saw the appended line")
	}
	ended := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); ended <- err }()
	c.Close() // wakes a reader waiting at the end
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not wake an ignoreeof reader")
	}
}

// TestSetsid: setsid runs the child as the leader of a session.
func TestSetsid(t *testing.T) {
	for _, opt := range []string{"", ",setsid"} {
		c, err := endpoint.Dial(context.Background(), spec(t, `SYSTEM:read a b c d e sid rest </proc/$$/stat; echo $$ $sid`+opt))
		if err != nil {
			t.Fatal(err)
		}
		c.CloseWrite()
		b, _ := io.ReadAll(c)
		c.Close()
		f := strings.Fields(string(b))
		if len(f) != 2 || (f[0] == f[1]) != (opt != "") {
			t.Errorf("%q: pid and session %q", opt, b)
		}
	}
}
