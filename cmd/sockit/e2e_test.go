package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

const (
	serverMsg = "我是来自服务端的一条数据\n"
	clientMsg = "我是来自客户端的一条数据\n"
)

// family is one way to name a listening address on the command line.
type family struct {
	name   string
	listen func(t *testing.T) (server, client []string)
	ncat   bool // whether Debian's ncat 7.93 completes this exchange
}

func families() []family {
	tcp := func(network, host string, extra ...string) func(t *testing.T) ([]string, []string) {
		return func(t *testing.T) ([]string, []string) {
			port := testenv.FreePort(t, network, host)
			return append(append([]string{}, extra...), "-l", host, port), append(append([]string{}, extra...), host, port)
		}
	}
	unix := func(abstract bool, extra ...string) func(t *testing.T) ([]string, []string) {
		return func(t *testing.T) ([]string, []string) {
			path := filepath.Join(t.TempDir(), "s.sock")
			if abstract {
				path = fmt.Sprintf("@sockit-test-%d-%d", os.Getpid(), time.Now().UnixNano())
			}
			return append(append([]string{}, extra...), "-l", "-U", path), append(append([]string{}, extra...), "-U", path)
		}
	}
	return []family{
		{"tcp4", tcp("tcp4", "127.0.0.1"), true},
		{"tcp6", tcp("tcp6", "::1", "-6"), true},
		{"unix", unix(false), true},
		// ncat 7.93 has no abstract namespace: it makes a file named "@...".
		{"abstract", unix(true), false},
		// ncat exits on stdin EOF over datagrams without waiting for the
		// answer, so only sockit completes these two.
		{"udp", tcp("udp4", "127.0.0.1", "-u"), false},
		{"unixgram", unix(false, "-u"), false},
	}
}

// exchange runs the seed's exchange: server and client each send their
// message from stdin and print what the other sent.
func exchange(t *testing.T, serverBin, clientBin string, server, client []string) (srvOut, cliOut string, srvCode, cliCode int) {
	srv := testenv.Start(t, strings.NewReader(serverMsg), append([]string{serverBin, "-v"}, server...)...)
	srv.WaitListening(t)
	cli := testenv.Start(t, strings.NewReader(clientMsg), append([]string{clientBin}, client...)...)
	cliCode = cli.Wait(t)
	srvCode = srv.Wait(t)
	if srvCode != 0 || cliCode != 0 {
		t.Logf("server stderr: %s\nclient stderr: %s", srv.Stderr.String(), cli.Stderr.String())
	}
	return srv.Stdout.String(), cli.Stdout.String(), srvCode, cliCode
}

func TestSeedExchange(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	for _, f := range families() {
		pairs := [][2]string{{"sockit", sockit}}
		if f.ncat {
			pairs = append(pairs, [2]string{"ncat", ncat})
		}
		for _, tool := range pairs {
			t.Run(f.name+"/"+tool[0], func(t *testing.T) {
				server, client := f.listen(t)
				s, c, sc, cc := exchange(t, tool[1], tool[1], server, client)
				if s != clientMsg || c != serverMsg || sc != 0 || cc != 0 {
					t.Errorf("server got %q (exit %d), client got %q (exit %d); want %q, %q, 0, 0", s, sc, c, cc, clientMsg, serverMsg)
				}
			})
		}
	}
}

// TestInteropWithNcat mixes the two: sockit's client with ncat's server and
// the other way round, so half-closes on the wire must match.
func TestInteropWithNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	for _, f := range families() {
		if !f.ncat {
			continue
		}
		for _, pair := range [][2]string{{sockit, ncat}, {ncat, sockit}} {
			name := f.name + "/" + filepath.Base(pair[0]) + "-server"
			t.Run(name, func(t *testing.T) {
				server, client := f.listen(t)
				s, c, sc, cc := exchange(t, pair[0], pair[1], server, client)
				if s != clientMsg || c != serverMsg || sc != 0 || cc != 0 {
					t.Errorf("server got %q (exit %d), client got %q (exit %d)", s, sc, c, cc)
				}
			})
		}
	}
}

// TestHalfCloseWaitsForPeer: the client's stdin ends first, the server's
// later; the server must still deliver after seeing the client's EOF. Here
// sockit departs from ncat on purpose: ncat's listener drops the socket at
// the client's EOF and the late answer is lost (checked below, so the
// difference stays known).
func TestHalfCloseWaitsForPeer(t *testing.T) {
	for _, bin := range []string{testenv.Binary(t), testenv.Peer(t, "ncat")} {
		want := "late answer\n"
		if filepath.Base(bin) == "ncat" {
			want = ""
		}
		t.Run(filepath.Base(bin), func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			srv := testenv.Start(t, pr, bin, "-v", "-l", "127.0.0.1", port)
			srv.WaitListening(t)
			cli := testenv.Start(t, strings.NewReader("ping\n"), bin, "127.0.0.1", port)
			// Wait until the server has printed the client's bytes (and so
			// seen its EOF), then answer late.
			for i := 0; i < 1000 && srv.Stdout.Len() == 0; i++ {
				time.Sleep(5 * time.Millisecond)
			}
			pw.Write([]byte("late answer\n"))
			pw.Close()
			if code := cli.Wait(t); code != 0 || cli.Stdout.String() != want {
				t.Errorf("client: exit %d, got %q", code, cli.Stdout.String())
			}
			if code := srv.Wait(t); code != 0 || srv.Stdout.String() != "ping\n" {
				t.Errorf("server: exit %d, got %q", code, srv.Stdout.String())
			}
		})
	}
}

func TestLargeTransferBothWays(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB each way")
	}
	sockit := testenv.Binary(t)
	dir := t.TempDir()
	mk := func(name string) (string, [32]byte) {
		b := make([]byte, 64<<20)
		rand.Read(b)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p, sha256.Sum256(b)
	}
	sp, ssum := mk("server.bin")
	cp, csum := mk("client.bin")
	for _, fam := range families()[:3] {
		t.Run(fam.name, func(t *testing.T) {
			server, client := fam.listen(t)
			sf, _ := os.Open(sp)
			defer sf.Close()
			// The client reads its stdin from a pipe (os/exec makes one
			// for a non-file reader): the splice path from a pipe.
			cdata, _ := os.ReadFile(cp)
			srv := testenv.Start(t, sf, append([]string{sockit, "-v"}, server...)...)
			srv.WaitListening(t)
			cli := testenv.Start(t, bytes.NewReader(cdata), append([]string{sockit}, client...)...)
			if code := cli.Wait(t); code != 0 {
				t.Fatalf("client exit %d: %s", code, cli.Stderr.String())
			}
			if code := srv.Wait(t); code != 0 {
				t.Fatalf("server exit %d: %s", code, srv.Stderr.String())
			}
			if sha256.Sum256(srv.Stdout.Bytes()) != csum || sha256.Sum256(cli.Stdout.Bytes()) != ssum {
				t.Errorf("bytes differ: server got %d, client got %d", srv.Stdout.Len(), cli.Stdout.Len())
			}
		})
	}
}

// TestBadInput: every mistake a user can type gets one line on stderr and
// ncat's exit code, never a panic.
func TestBadInput(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	refused := testenv.FreePort(t, "tcp4", "127.0.0.1")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--frobnicate"}, 2, "unrecognized option"},
		{[]string{"-l", "127.0.0.1", "99999"}, 2, "Invalid port number"},
		{[]string{"127.0.0.1", "1", "2"}, 2, "more than one port"},
		{[]string{"-l", "127.0.0.1", "22", "-p", "5"}, 2, "more than one port"},
		{[]string{"127.0.0.1", refused}, 1, "Connection refused"},
		{[]string{"host.invalid", "80"}, 2, "resolve"},
		{[]string{"-w", "-1", "127.0.0.1", "1"}, 2, "timeout"},
		{[]string{"-w", "2x", "127.0.0.1", "1"}, 2, "timeout"},
		{[]string{"-U", "/nonexistent/dir/x"}, 1, "No such file"},
		{[]string{"-l", "-U", "/nonexistent/dir/x"}, 2, "bind to /nonexistent/dir/x: No such file"},
		{[]string{"-U"}, 2, "path"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			p := testenv.Start(t, strings.NewReader(""), append([]string{sockit}, tt.args...)...)
			code := p.Wait(t)
			stderr := p.Stderr.String()
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			if lines := strings.Count(stderr, "\n"); lines != 1 || !strings.HasPrefix(stderr, "sockit: ") || !strings.Contains(strings.ToLower(stderr), strings.ToLower(tt.want)) {
				t.Errorf("stderr %q: want one line starting sockit: and containing %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr: %s", stderr)
			}
			// The same input to ncat fails with the same exit code.
			n := testenv.Start(t, strings.NewReader(""), append([]string{ncat}, tt.args...)...)
			if nc := n.Wait(t); nc != code {
				t.Errorf("ncat exit %d, sockit %d (ncat said %q)", nc, code, n.Stderr.String())
			}
		})
	}
}

// TestKeepOpenExec runs 1,000 clients against -k -e cat: each must get its
// echo, every child must be reaped, and descriptors return to their start.
func TestKeepOpenExec(t *testing.T) {
	sockit := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, sockit, "-v", "-lk", "-m", "2000", "127.0.0.1", port, "-e", "/bin/cat")
	srv.WaitListening(t)
	pid := srv.Cmd.Process.Pid
	startFDs := testenv.OpenFDs(t, pid)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	errs := make(chan error, 1000)
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			msg := "client " + strconv.Itoa(i) + "\n"
			c.Write([]byte(msg))
			c.(*net.TCPConn).CloseWrite()
			var got bytes.Buffer
			got.ReadFrom(c)
			if got.String() != msg {
				errs <- fmt.Errorf("client %d got %q", i, got.String())
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Children exit when their client does; give the reaper a moment.
	var kids []string
	for i := 0; i < 400; i++ {
		if kids = testenv.Children(t, pid); len(kids) == 0 && testenv.OpenFDs(t, pid) == startFDs {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(kids) != 0 {
		t.Errorf("children left: %v", kids)
	}
	if n := testenv.OpenFDs(t, pid); n != startFDs {
		t.Errorf("descriptors: %d at start, %d after 1,000 clients:\n%s", startFDs, n, testenv.DescribeFDs(pid))
	}
}

func TestExecEnvironment(t *testing.T) {
	sockit := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, sockit, "-v", "-l", "127.0.0.1", port, "-c", `echo "$NCAT_PROTO $NCAT_LOCAL_PORT $NCAT_REMOTE_ADDR"`)
	srv.WaitListening(t)
	cli := testenv.Start(t, strings.NewReader(""), sockit, "127.0.0.1", port)
	if code := cli.Wait(t); code != 0 {
		t.Fatalf("client exit %d", code)
	}
	if want := "TCP " + port + " 127.0.0.1\n"; cli.Stdout.String() != want {
		t.Errorf("got %q, want %q", cli.Stdout.String(), want)
	}
	srv.Wait(t)
}

// TestKeepOpenBroadcast: with -k and no -e, stdin goes to every client and
// every client's bytes reach stdout.
func TestKeepOpenBroadcast(t *testing.T) {
	sockit := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	pr, pw, _ := os.Pipe()
	defer pw.Close()
	srv := testenv.Start(t, pr, sockit, "-v", "-lk", "127.0.0.1", port)
	pr.Close()
	srv.WaitListening(t)
	var conns []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i := 0; i < 300 && strings.Count(srv.Stderr.String(), "Connection from") < 3; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	pw.Write([]byte("to all\n"))
	pw.Close()
	// Each client reads to EOF (stdin's end reaches every client as a
	// half-close) and then sends. A client's own EOF ends its session, as
	// in ncat, so it half-closes only after reading.
	for i, c := range conns {
		var got bytes.Buffer
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got.ReadFrom(c)
		if got.String() != "to all\n" {
			t.Errorf("client %d got %q", i, got.String())
		}
		c.Write([]byte("from " + strconv.Itoa(i) + "\n"))
		c.(*net.TCPConn).CloseWrite()
	}
	for i := 0; i < 300 && strings.Count(srv.Stdout.String(), "from") < 3; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	srv.Cmd.Process.Kill()
	srv.Wait(t)
	for i := range conns {
		if !strings.Contains(srv.Stdout.String(), "from "+strconv.Itoa(i)+"\n") {
			t.Errorf("stdout %q lacks client %d", srv.Stdout.String(), i)
		}
	}
}

// TestAcceptDoesNoNameLookup traces a keep-open server with strace while
// 20 clients come and go: accepting must not touch the resolver (no
// /etc/hosts, resolv.conf or nsswitch.conf, no DNS socket), with or
// without -n. A control run listening on "localhost" shows that the trace
// does see Go's resolver when it is used.
func TestAcceptDoesNoNameLookup(t *testing.T) {
	strace := testenv.Peer(t, "strace")
	sockit := testenv.Binary(t)
	lookups := func(host string, clients int) []string {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		trace := filepath.Join(t.TempDir(), "trace")
		srv := testenv.Start(t, nil, strace, "-f", "-qq", "-e", "trace=openat,socket", "-o", trace,
			sockit, "-v", "-lk", host, port)
		srv.WaitListening(t)
		for i := 0; i < clients; i++ {
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("hi\n"))
			c.Close()
		}
		for i := 0; i < 500 && strings.Count(srv.Stderr.String(), "Connection from") < clients; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		// Stop sockit and strace together: they share a process group.
		syscall.Kill(-srv.Cmd.Process.Pid, syscall.SIGTERM)
		srv.Wait(t)
		b, err := os.ReadFile(trace)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "/etc/hosts") || strings.Contains(line, "resolv.conf") ||
				strings.Contains(line, "nsswitch.conf") || strings.Contains(line, "SOCK_DGRAM") {
				found = append(found, line)
			}
		}
		return found
	}
	if found := lookups("localhost", 0); len(found) == 0 {
		t.Fatalf("control: listening on localhost showed no resolver activity; the trace cannot see lookups")
	}
	if found := lookups("127.0.0.1", 20); len(found) != 0 {
		t.Errorf("accepting 20 clients touched the resolver:\n%s", strings.Join(found, "\n"))
	}
}
