package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// hubClient is one client of a broker or chat server under test.
type hubClient struct {
	c  net.Conn
	br *bufio.Reader
}

func dialHub(t *testing.T, network, src, addr string) *hubClient {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &hubClient{c: c, br: bufio.NewReader(c)}
}

// lines reads n lines; a hang fails after 10 s.
func (h *hubClient) lines(t *testing.T, n int) string {
	t.Helper()
	h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	for range n {
		l, err := h.br.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			t.Fatalf("read: %v after %q", err, b.String())
		}
	}
	return b.String()
}

// TestChatMatchesNcat runs one chat session against ncat --chat and
// against sockit --chat and compares every byte each client hears:
// join notices and ids, messages with control characters and UTF-8,
// leaves, a half-close, and an id reused.
func TestChatMatchesNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	run := func(bin string) string {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		srv := testenv.Start(t, nil, bin, "-v", "--chat", "-l", "127.0.0.1", port)
		srv.WaitListening(t)
		addr := "127.0.0.1:" + port
		var log strings.Builder
		say := func(who string, s string) { fmt.Fprintf(&log, "%s: %q\n", who, s) }
		a := dialHub(t, "tcp4", "127.0.0.1", addr)
		say("a", a.lines(t, 2))
		b := dialHub(t, "tcp4", "127.0.0.2", addr)
		say("a", a.lines(t, 2))
		say("b", b.lines(t, 2))
		c := dialHub(t, "tcp4", "127.0.0.3", addr)
		for _, x := range []*hubClient{a, b, c} {
			say("?", x.lines(t, 2))
		}
		a.c.Write([]byte("plain words\n"))
		say("b", b.lines(t, 1))
		say("c", c.lines(t, 1))
		a.c.Write(append(append([]byte("all bytes: "), allBytesBut('\n')...), '\n'))
		say("b", b.lines(t, 1))
		say("c", c.lines(t, 1))
		c.c.Write([]byte("caf\xc3\xa9 \\ tab\there\r\n"))
		say("a", a.lines(t, 1))
		say("b", b.lines(t, 1))
		b.c.Close()
		say("a", a.lines(t, 1))
		say("c", c.lines(t, 1))
		d := dialHub(t, "tcp4", "127.0.0.4", addr)
		say("a", a.lines(t, 2))
		say("c", c.lines(t, 2))
		say("d", d.lines(t, 2))
		c.c.(*net.TCPConn).CloseWrite() // a half-close ends a client's session, as ncat
		say("a", a.lines(t, 1))
		say("d", d.lines(t, 1))
		c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		rest, err := io.ReadAll(c.br)
		say("c", fmt.Sprintf("%q then %v", rest, err))
		return log.String()
	}
	if got, want := run(sockit), run(ncat); got != want {
		t.Errorf("sockit and ncat differ\nsockit:\n%s\nncat:\n%s", got, want)
	}
}

func allBytesBut(skip byte) []byte {
	var p []byte
	for b := range 256 {
		if byte(b) != skip {
			p = append(p, byte(b))
		}
	}
	return p
}

// TestChatLinesDeparture pins where sockit's chat leaves ncat's on
// purpose: a line that arrives in pieces goes out whole with one prefix,
// and each line of a multi-line write gets its own.
func TestChatLinesDeparture(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "-v", "--chat", "-l", "127.0.0.1", port)
	srv.WaitListening(t)
	a := dialHub(t, "tcp4", "", "127.0.0.1:"+port)
	a.lines(t, 2)
	b := dialHub(t, "tcp4", "", "127.0.0.1:"+port)
	a.lines(t, 2)
	b.lines(t, 2)
	b.c.Write([]byte("one\ntwo\nthr"))
	b.c.Write([]byte("ee\n"))
	if got, want := a.lines(t, 3), "<user5> one\n<user5> two\n<user5> three\n"; got != want {
		t.Errorf("heard %q, want %q", got, want)
	}
}

// TestBrokerMatchesNcat: what one client sends reaches every other one
// and not itself, stdin reaches them all, and a half-closed client is
// dropped; the same against ncat --broker.
func TestBrokerMatchesNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	run := func(bin string) string {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		stdinR, stdinW, _ := os.Pipe()
		defer stdinW.Close()
		srv := testenv.Start(t, stdinR, bin, "-v", "--broker", "127.0.0.1", port)
		stdinR.Close()
		srv.WaitListening(t)
		addr := "127.0.0.1:" + port
		var log strings.Builder
		say := func(who string, s string) { fmt.Fprintf(&log, "%s: %q\n", who, s) }
		cs := make([]*hubClient, 3)
		for i := range cs {
			cs[i] = dialHub(t, "tcp4", fmt.Sprintf("127.0.0.%d", i+1), addr)
		}
		waitStderr(t, srv, "Connection from", 3) // logged once in the room
		stdinW.Write([]byte("from stdin\n"))
		for i, c := range cs {
			say(fmt.Sprint(i), c.lines(t, 1))
		}
		cs[0].c.Write([]byte("raw \x00\x01 bytes\n"))
		say("1", cs[1].lines(t, 1))
		say("2", cs[2].lines(t, 1))
		cs[1].c.(*net.TCPConn).CloseWrite()
		cs[1].c.SetReadDeadline(time.Now().Add(10 * time.Second))
		rest, err := io.ReadAll(cs[1].br)
		say("1", fmt.Sprintf("%q then %v", rest, err))
		cs[2].c.Write([]byte("after\n"))
		say("0", cs[0].lines(t, 1))
		cs[0].c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, _ := cs[0].br.Read(make([]byte, 1))
		say("0 more", fmt.Sprint(n))
		return log.String() + fmt.Sprintf("stdout %q\n", srv.Stdout.String())
	}
	if got, want := run(sockit), run(ncat); got != want {
		t.Errorf("sockit and ncat differ\nsockit:\n%s\nncat:\n%s", got, want)
	}
}

// TestBrokerRefusals: the combinations ncat refuses, sockit refuses with
// the same exit code and one line.
func TestBrokerRefusals(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, args := range [][]string{
		{"-u", "--broker", "-l", port},
		{"-u", "--chat", "-l", port},
		{"--chat", "127.0.0.1", port},
		{"--broker", "-e", "/bin/cat", "-l", port},
		{"--chat", "-c", "cat", "-l", port},
	} {
		want := testenv.Start(t, nil, append([]string{ncat}, args...)...).Wait(t)
		p := testenv.Start(t, nil, append([]string{sockit}, args...)...)
		got := p.Wait(t)
		msg := strings.TrimSpace(p.Stderr.String())
		if got != want || strings.Count(msg, "\n") != 0 || msg == "" {
			t.Errorf("%v: exit %d (ncat %d), stderr %q", args, got, want, msg)
		}
	}
}

// TestChatOverTLSUnixAndLimits: the hub works with --ssl, with Unix
// sockets (ncat refuses those), with --deny and with --max-conns.
func TestChatOverTLSUnixAndLimits(t *testing.T) {
	sockit := testenv.Binary(t)
	t.Run("ssl", func(t *testing.T) {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		srv := testenv.Start(t, nil, sockit, "-v", "--chat", "--ssl", "-l", "127.0.0.1", port)
		srv.WaitListening(t)
		dial := func() *hubClient {
			c, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return &hubClient{c: c, br: bufio.NewReader(c)}
		}
		a := dial()
		a.lines(t, 2)
		b := dial()
		a.lines(t, 2)
		b.lines(t, 2)
		b.c.Write([]byte("secret\n"))
		if got := a.lines(t, 1); got != "<user5> secret\n" {
			t.Errorf("over TLS heard %q", got)
		}
	})
	t.Run("unix", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "chat.sock")
		srv := testenv.Start(t, nil, sockit, "-v", "-U", "--chat", "-l", sock)
		srv.WaitListening(t)
		a := dialHub(t, "unix", "", sock)
		if got, want := a.lines(t, 2), "<announce> localhost is connected as <user4>.\n<announce> already connected: nobody.\n"; got != want {
			t.Errorf("heard %q, want %q", got, want)
		}
		b := dialHub(t, "unix", "", sock)
		a.lines(t, 2)
		b.lines(t, 2)
		a.c.Write([]byte("over unix\n"))
		if got := b.lines(t, 1); got != "<user4> over unix\n" {
			t.Errorf("heard %q", got)
		}
	})
	t.Run("allow, deny and max-conns", func(t *testing.T) {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		srv := testenv.Start(t, nil, sockit, "-v", "--broker", "--allow", "127.0.0.0/24", "--deny", "127.0.0.9", "-m", "2", "-l", "127.0.0.1", port)
		srv.WaitListening(t)
		addr := "127.0.0.1:" + port
		denied := dialHub(t, "tcp4", "127.0.0.9", addr)
		a := dialHub(t, "tcp4", "127.0.0.1", addr)
		b := dialHub(t, "tcp4", "127.0.0.2", addr)
		waitStderr(t, srv, "Connection from 127.0.0.2", 1)
		over := dialHub(t, "tcp4", "127.0.0.3", addr)
		for _, c := range []*hubClient{denied, over} {
			c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := io.Copy(io.Discard, c.br); n != 0 || err != nil {
				t.Errorf("%s: read %d bytes (%v), want a closed conn", c.c.LocalAddr(), n, err)
			}
		}
		a.c.Write([]byte("two is company\n"))
		if got := b.lines(t, 1); got != "two is company\n" {
			t.Errorf("heard %q", got)
		}
		waitStderr(t, srv, "New connection denied: not allowed", 1)
		waitStderr(t, srv, "New connection denied: connection limit reached (2)", 1)
	})
}

func waitStderr(t *testing.T, p *testenv.Proc, s string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); strings.Count(p.Stderr.String(), s) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr never said %q %d times:\n%s", s, n, p.Stderr.String())
		}
	}
}

// TestBrokerSlowReader: a client that stops reading is cut off with a log
// line naming it, and the others get every byte, in order.
func TestBrokerSlowReader(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "-v", "--broker", "--max-queue", "256k", "--lag-grace", "1s", "-l", "127.0.0.1", port)
	srv.WaitListening(t)
	addr := "127.0.0.1:" + port
	sender := dialHub(t, "tcp4", "127.0.0.1", addr)
	stalled := dialHub(t, "tcp4", "127.0.0.2", addr)
	stalled.c.(*net.TCPConn).SetReadBuffer(4096)
	readers := []*hubClient{dialHub(t, "tcp4", "127.0.0.3", addr), dialHub(t, "tcp4", "127.0.0.4", addr)}
	waitStderr(t, srv, "Connection from", 4)

	want := make([]byte, 16<<20)
	for i := range want {
		want[i] = byte(i % 251)
	}
	var wg sync.WaitGroup
	wg.Go(func() { sender.c.Write(want) })
	for _, r := range readers {
		wg.Go(func() {
			r.c.SetReadDeadline(time.Now().Add(60 * time.Second))
			got := make([]byte, len(want))
			if n, err := io.ReadFull(r.br, got); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes (%v), or different ones", r.c.LocalAddr(), n, err)
			}
		})
	}
	wg.Wait()
	waitStderr(t, srv, "cut off 127.0.0.2:", 1)
	if !strings.Contains(srv.Stderr.String(), "backlog of 262144") {
		t.Errorf("the cut-off line does not say why:\n%s", srv.Stderr.String())
	}
}

// TestBrokerManyClients: 5,000 clients join a broker process and leave;
// its descriptors are back where they were.
func TestBrokerManyClients(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "-v", "--broker", "-l", "127.0.0.1", port)
	srv.WaitListening(t)
	pid := srv.Cmd.Process.Pid
	before := testenv.OpenSockets(t, pid)
	conns := make([]net.Conn, 0, n)
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 2, byte(1+i%200))}}
		c, err := d.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	// Once the last joined, everyone hears the first.
	for deadline := time.Now().Add(30 * time.Second); testenv.OpenSockets(t, pid) < before+n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("broker holds %d sockets, want %d", testenv.OpenSockets(t, pid), before+n)
		}
	}
	conns[0].Write([]byte("hello all\n"))
	for _, c := range conns[1:] {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		got := make([]byte, len("hello all\n"))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "hello all\n" {
			t.Fatalf("%s heard %q (%v)", c.LocalAddr(), got, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	for deadline := time.Now().Add(30 * time.Second); testenv.OpenSockets(t, pid) != before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %d clients left the broker holds %d sockets, had %d", n, testenv.OpenSockets(t, pid), before)
		}
	}
}

// TestBrokerOutOfDescriptors runs a broker that may hold only a few
// descriptors: clients beyond them wait in the accept queue, and are
// served once others leave.
func TestBrokerOutOfDescriptors(t *testing.T) {
	prlimit := testenv.Peer(t, "prlimit")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, prlimit, "--nofile=24:24", testenv.Binary(t), "-v", "--broker", "-l", "127.0.0.1", port)
	srv.WaitListening(t)
	addr := "127.0.0.1:" + port
	var cs []*hubClient
	for i := range 30 {
		cs = append(cs, dialHub(t, "tcp4", fmt.Sprintf("127.0.0.%d", 1+i), addr))
	}
	waitStderr(t, srv, "waiting for a client to leave", 1)
	joined := strings.Count(srv.Stderr.String(), "Connection from")
	if joined >= 30 {
		t.Fatalf("all 30 joined with 24 descriptors:\n%s", srv.Stderr.String())
	}
	// The first ones in leave, as many as wait; the rest come in.
	for _, c := range cs[:30-joined] {
		c.c.Close()
	}
	waitStderr(t, srv, "Connection from", 30)
	cs[29].c.Write([]byte("last in\n"))
	if got := cs[30-joined].lines(t, 1); got != "last in\n" {
		t.Errorf("heard %q", got)
	}
}

// TestBrokerSendOnly: with --send-only the broker's clients only listen:
// they hear stdin, and what they send reaches no one, as with ncat. With
// --recv-only stdin is not read, and clients hear each other.
func TestBrokerSendOnly(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		bin, flag string
		heard     string // what b hears after a speaks and stdin says "from stdin"
	}{
		{testenv.Peer(t, "ncat"), "--send-only", "from stdin\n"},
		{link, "--send-only", "from stdin\n"},
		{testenv.Binary(t), "--send-only", "from stdin\n"},
		{testenv.Binary(t), "--recv-only", "from a\n"},
	} {
		t.Run(filepath.Base(tt.bin)+" "+tt.flag, func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			pr, pw, _ := os.Pipe()
			defer pw.Close()
			srv := testenv.Start(t, pr, tt.bin, "-v", "--broker", tt.flag, "-l", "127.0.0.1", port)
			pr.Close()
			srv.WaitListening(t)
			a := dialHub(t, "tcp4", "127.0.0.1", "127.0.0.1:"+port)
			b := dialHub(t, "tcp4", "127.0.0.2", "127.0.0.1:"+port)
			waitStderr(t, srv, "Connection from 127.0.0.2:", 1)
			a.c.Write([]byte("from a\n"))
			if tt.flag == "--send-only" {
				time.Sleep(200 * time.Millisecond) // a's words would be on their way by now; they must not arrive
				pw.Write([]byte("from stdin\n"))
			}
			b.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got := make([]byte, len(tt.heard))
			if _, err := io.ReadFull(b.br, got); err != nil || string(got) != tt.heard {
				t.Errorf("b heard %q (%v), want %q", got, err, tt.heard)
			}
			srv.Cmd.Process.Kill()
			srv.Wait(t)
			if srv.Stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", srv.Stdout.String())
			}
		})
	}
}
