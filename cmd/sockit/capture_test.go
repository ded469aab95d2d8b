package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// exchanged is one conversation as its originator saw it.
type exchanged struct{ sent, got string }

// followAll reads every TCP stream (or UDP stream) of a capture back
// with tshark's follow,raw, as what the originator sent and what it got.
func followAll(t *testing.T, file, proto string) []exchanged {
	t.Helper()
	tshark := testenv.Peer(t, "tshark")
	if bad, err := exec.Command(tshark, "-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
		"-Y", "_ws.malformed || _ws.expert.severity >= error").Output(); err != nil || len(bytes.TrimSpace(bad)) > 0 {
		t.Errorf("tshark finds fault with the capture (%v):\n%s", err, bad)
	}
	field := proto + ".stream"
	if proto == "tls" {
		field = "tcp.stream"
	}
	ids, err := exec.Command(tshark, "-r", file, "-T", "fields", "-e", field).Output()
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]bool{}
	for _, id := range strings.Fields(string(ids)) {
		streams[id] = true
	}
	follow := proto
	if proto == "tls" { // the TLS streams, decrypted with the capture's own secrets
		follow = "tls"
		ids, err := exec.Command(tshark, "-r", file, "-Y", "tls", "-T", "fields", "-e", "tcp.stream").Output()
		if err != nil {
			t.Fatal(err)
		}
		streams = map[string]bool{}
		for _, id := range strings.Fields(string(ids)) {
			streams[id] = true
		}
	}
	var out []exchanged
	for id := range streams {
		raw, err := exec.Command(tshark, "-r", file, "-q", "-z", "follow,"+follow+",raw,"+id).Output()
		if err != nil {
			t.Fatal(err)
		}
		body := string(raw)
		body = body[strings.Index(body, "Node 1:"):]
		body = body[strings.Index(body, "\n")+1:]
		var x exchanged
		for _, line := range strings.Split(body, "\n") {
			if line == "" || strings.HasPrefix(line, "====") {
				continue
			}
			b, err := hex.DecodeString(strings.TrimPrefix(line, "\t"))
			if err != nil {
				t.Fatalf("follow line %q", line)
			}
			if strings.HasPrefix(line, "\t") {
				x.got += string(b)
			} else {
				x.sent += string(b)
			}
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sent+out[i].got < out[j].sent+out[j].got })
	return out
}

// TestCaptureRelayBothLegs: a relay with fork captures each session on
// both legs, client side and upstream side, and tshark reassembles from
// the file exactly what each client and the upstream exchanged.
func TestCaptureRelayBothLegs(t *testing.T) {
	up := testenv.Upstream(t, bytes.ToUpper)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	file := filepath.Join(t.TempDir(), "relay.pcapng")
	relay := testenv.Start(t, nil, testenv.Binary(t), "relay", "--capture", file,
		"TCP-LISTEN:"+port+",bind=127.0.0.1,fork,reuseaddr", "TCP:"+up)
	waitTCP(t, "127.0.0.1:"+port)
	var want []exchanged
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		msg := strings.Repeat(fmt.Sprintf("client %d says hello; ", i), 1+i*3000) // up to 300 KB
		wg.Go(func() {
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			go func() { c.Write([]byte(msg)); c.(*net.TCPConn).CloseWrite() }()
			b, _ := io.ReadAll(c)
			mu.Lock()
			want = append(want, exchanged{msg, string(b)}, exchanged{msg, string(b)}) // the client's leg and the upstream's
			mu.Unlock()
		})
	}
	wg.Wait()
	syscall.Kill(relay.Cmd.Process.Pid, syscall.SIGTERM)
	relay.Wait(t)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("capture file: %v, mode %v; want 0600", err, fi.Mode())
	}
	sort.Slice(want, func(i, j int) bool { return want[i].sent+want[i].got < want[j].sent+want[j].got })
	got := followAll(t, file, "tcp")
	if len(got) != len(want) {
		t.Fatalf("%d streams in the capture, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] || want[i].got != strings.ToUpper(want[i].sent) {
			t.Errorf("stream %d: captured %d bytes sent and %d got; the client sent %d and got %d",
				i, len(got[i].sent), len(got[i].got), len(want[i].sent), len(want[i].got))
		}
	}
}

// TestCaptureListeners: an ncat-style listener over TCP, a Unix socket
// and UDP captures its session, network side and stdio side, and the
// capture gives back what the client sent and got.
func TestCaptureListeners(t *testing.T) {
	bin := testenv.Binary(t)
	dir := t.TempDir()
	tests := []struct {
		name  string
		proto string // tshark's
		flags []string
	}{
		{"tcp", "tcp", []string{"127.0.0.1", "PORT"}},
		{"unix", "tcp", []string{"-U", filepath.Join(dir, "s.sock")}},
		{"udp", "udp", []string{"-u", "127.0.0.1", "PORT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			network, addr := "tcp4", ""
			flags := append([]string(nil), tt.flags...)
			switch tt.name {
			case "tcp", "udp":
				port := testenv.FreePort(t, map[string]string{"tcp": "tcp4", "udp": "udp4"}[tt.name], "127.0.0.1")
				flags[len(flags)-1] = port
				network, addr = map[string]string{"tcp": "tcp4", "udp": "udp4"}[tt.name], "127.0.0.1:"+port
			case "unix":
				network, addr = "unix", flags[1]
			}
			file := filepath.Join(t.TempDir(), "l.pcapng")
			srv := testenv.Start(t, strings.NewReader("from the listener\n"),
				append([]string{bin, "-v", "--capture", file, "-l"}, flags...)...)
			srv.WaitListening(t)
			c, err := net.Dial(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			msg := "from the client\n"
			c.Write([]byte(msg))
			reply := make([]byte, 64)
			n, _ := c.Read(reply)
			if tt.name != "udp" {
				c.(interface{ CloseWrite() error }).CloseWrite()
				rest, _ := io.ReadAll(c)
				reply = append(reply[:n], rest...)
			} else {
				reply = reply[:n]
			}
			c.Close()
			if tt.name == "udp" {
				syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
			}
			srv.Wait(t)
			if srv.Stdout.String() != msg || string(reply) != "from the listener\n" {
				t.Fatalf("session: listener printed %q, client got %q", srv.Stdout.String(), reply)
			}
			got := followAll(t, file, tt.proto)
			// The network side: the client originated it. The stdio side
			// (synthetic TCP): sockit did, and wrote to stdout what the
			// client sent, so both read alike.
			want := []exchanged{{msg, "from the listener\n"}, {msg, "from the listener\n"}}
			if tt.proto == "udp" {
				want = want[:1] // the stdio side is TCP
				// tshark's node 0 of a UDP stream is the first datagram's
				// sender, and both sides send at once here: either order.
				if len(got) == 1 {
					if flipped := (exchanged{got[0].got, got[0].sent}); flipped == want[0] {
						got[0] = flipped
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("captured %q, want %q", got, want)
			}
		})
	}
}

// TestCaptureToStdout: --capture - writes the pcapng stream on stdout,
// for `| wireshark -k -i -`; the data goes to -o's file instead.
func TestCaptureToStdout(t *testing.T) {
	ncat := testenv.Peer(t, "ncat")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, strings.NewReader("answer\n"), ncat, "-v", "-l", "127.0.0.1", port)
	srv.WaitListening(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := testenv.Start(t, strings.NewReader("question\n"), testenv.Binary(t), "--capture", "-", "-o", data, "127.0.0.1", port)
	if code := p.Wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, p.Stderr.String())
	}
	file := filepath.Join(dir, "stdout.pcapng")
	os.WriteFile(file, p.Stdout.Bytes(), 0o600)
	if !bytes.HasPrefix(p.Stdout.Bytes(), []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Fatalf("stdout is not pcapng: %q", p.Stdout.String())
	}
	// The network side, which sockit originated, and the stdio side,
	// which it originated too: what it wrote to stdout is its "sent".
	got := followAll(t, file, "tcp")
	want := []exchanged{{"answer\n", "question\n"}, {"question\n", "answer\n"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("captured %q, want %q", got, want)
	}
	b, _ := os.ReadFile(data)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	sort.Strings(lines)
	if strings.Join(lines, " ") != "answer question" {
		t.Errorf("-o file holds %q", b)
	}
}

// TestCaptureTLS: a TLS listener and a relay that dials TLS capture the
// records as they crossed the wire, decrypted by tshark from the
// capture's own secrets block, and the plaintext as a flow of its own;
// --keylog writes the same keys, mode 0600; --json tells the handshake.
func TestCaptureTLS(t *testing.T) {
	bin := testenv.Binary(t)
	dir := t.TempDir()
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	file, keys := filepath.Join(dir, "tls.pcapng"), filepath.Join(dir, "keys.log")
	srv := testenv.Start(t, strings.NewReader("server says hi\n"), bin, "-v", "--ssl", "-l", "127.0.0.1", port,
		"--capture", file, "--keylog", keys, "--json")
	srv.WaitListening(t)
	// Through a relay that speaks TLS to the listener and plain TCP to
	// its own client, captured too.
	rport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	rfile := filepath.Join(dir, "relay.pcapng")
	relay := testenv.Start(t, nil, bin, "relay", "--capture", rfile, "TCP-LISTEN:"+rport+",bind=127.0.0.1", "OPENSSL:127.0.0.1:"+port+",verify=0")
	waitTCP(t, "127.0.0.1:"+rport)
	cli := testenv.Start(t, strings.NewReader("client says hello\n"), bin, "127.0.0.1", rport)
	if code := cli.Wait(t); code != 0 || cli.Stdout.String() != "server says hi\n" {
		t.Fatalf("client: exit %d, got %q: %s", code, cli.Stdout.String(), cli.Stderr.String())
	}
	srv.Wait(t)
	relay.Wait(t)
	want := exchanged{"client says hello\n", "server says hi\n"}
	// tshark's follow,tls puts first the side whose application data came
	// first (here the server's), not the TCP originator: either order.
	flipped := exchanged{want.got, want.sent}
	if got := followAll(t, file, "tls"); len(got) != 1 || (got[0] != want && got[0] != flipped) {
		t.Errorf("listener's capture, decrypted: %q, want %q", got, want)
	}
	if got := followAll(t, rfile, "tls"); len(got) != 1 || (got[0] != want && got[0] != flipped) {
		t.Errorf("relay's capture, decrypted: %q, want %q", got, want)
	}
	// The plaintext flows: the listener's network and stdio sides; the
	// relay's client leg and the plaintext of its TLS leg (the TLS
	// records' own stream reads as ciphertext, so it is left out here).
	for _, f := range []string{file, rfile} {
		plain := 0
		for _, x := range followAll(t, f, "tcp") {
			if x == want {
				plain++
			}
		}
		if plain != 2 {
			t.Errorf("%s: %d plaintext flows carry the session, want 2", filepath.Base(f), plain)
		}
	}
	fi, err := os.Stat(keys)
	b, _ := os.ReadFile(keys)
	if err != nil || fi.Mode().Perm() != 0o600 || !strings.Contains(string(b), "CLIENT_TRAFFIC_SECRET_0 ") {
		t.Errorf("key log: %v, mode %v, %q", err, fi.Mode(), b)
	}
	var tlsEvents []event
	for _, e := range readEvents(t, srv.Stderr.Bytes()) {
		if e.str("event") == "tls" {
			tlsEvents = append(tlsEvents, e)
		}
	}
	if len(tlsEvents) != 1 || tlsEvents[0].str("tls_version") != "TLS 1.3" || tlsEvents[0].str("cipher") == "" || tlsEvents[0].str("uid") == "" {
		t.Errorf("tls events %v", tlsEvents)
	}
	for _, warn := range []string{keys + " gets the TLS session keys", "the capture holds TLS session keys"} {
		if !strings.Contains(srv.Stderr.String(), warn) {
			t.Errorf("no warning %q in:\n%s", warn, srv.Stderr.String())
		}
	}
}

// TestCaptureBroker: a broker's --capture has each client's connection,
// what it said and what the room told it, as tshark reassembles them.
func TestCaptureBroker(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	file := filepath.Join(t.TempDir(), "b.pcapng")
	srv := testenv.Start(t, nil, testenv.Binary(t), "-v", "--capture", file, "--broker", "-l", "127.0.0.1", port)
	srv.WaitListening(t)
	dial := func() net.Conn {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// The broker accepts one client after the other, so b is in the room
	// before a is read.
	b := dial()
	waitStderr(t, srv, "Connection from", 1)
	a := dial()
	msg := "hello from a\n"
	a.Write([]byte(msg))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(b, got); err != nil || string(got) != msg {
		t.Fatalf("b heard %q (%v)", got, err)
	}
	a.Close()
	b.Close()
	waitStderr(t, srv, "Connection from", 2)
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
	streams := followAll(t, file, "tcp")
	// The legs' order in the file is the order the broker took the two
	// clients in, which the -v line of b's accept does not pin: compare
	// them as a set.
	slices.SortFunc(streams, func(x, y exchanged) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
	want := []exchanged{{"", msg}, {msg, ""}}
	if fmt.Sprint(streams) != fmt.Sprint(want) {
		t.Errorf("captured %q, want %q", streams, want)
	}
}

// TestCaptureKeepOpen: -k without a command captures each client's
// connection: stdin's bytes that went to it, and what it sent to stdout.
func TestCaptureKeepOpen(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	file := filepath.Join(t.TempDir(), "k.pcapng")
	stdin, feed := io.Pipe()
	defer feed.Close()
	srv := testenv.Start(t, stdin, testenv.Binary(t), "-v", "--capture", file, "-lk", "127.0.0.1", port)
	srv.WaitListening(t)
	c, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	waitStderr(t, srv, "Connection from", 1)
	feed.Write([]byte("to every client\n"))
	got := make([]byte, len("to every client\n"))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("client heard %q (%v)", got, err)
	}
	c.Write([]byte("from the client\n"))
	c.Close()
	for i := 0; i < 1000 && srv.Stdout.String() == ""; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	feed.Close()
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
	if srv.Stdout.String() != "from the client\n" {
		t.Fatalf("stdout %q", srv.Stdout.String())
	}
	streams := followAll(t, file, "tcp")
	want := []exchanged{{"from the client\n", "to every client\n"}}
	if fmt.Sprint(streams) != fmt.Sprint(want) {
		t.Errorf("captured %q, want %q", streams, want)
	}
}
