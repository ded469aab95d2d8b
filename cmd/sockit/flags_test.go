package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// peerServer accepts one connection, sends send (then half-closes unless
// hold), and returns what it received.
func peerServer(t *testing.T, send string, hold bool) (port string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			ch <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		c.Write([]byte(send))
		if !hold {
			c.(*net.TCPConn).CloseWrite()
		}
		b, _ := io.ReadAll(c)
		ch <- string(b)
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, ch
}

// TestSessionFlagsMatchNcat runs the same connect-mode session through
// sockit and ncat and compares what the peer received, stdout, the log
// file and the exit code.
func TestSessionFlagsMatchNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	tests := []struct {
		name  string
		flags []string
		stdin string
		send  string
		hold  bool // the peer never half-closes
		log   bool // compare the file named by the flag after "LOG"
	}{
		{"crlf", []string{"-C"}, "a\nb\n", "", false, false},
		{"crlf-kept", []string{"-C"}, "a\r\nb\n\r\n\r\r\n", "", false, false},
		{"recv-only", []string{"--recv-only"}, "not sent\n", "from peer\n", false, false},
		{"send-only", []string{"--send-only"}, "only this\n", "ignored\n", true, false},
		{"output", []string{"-o", "LOG"}, "", "logged bytes\n", false, true},
		{"hex-dump", []string{"-x", "LOG"}, "", "hex \x00\x01\xff dumped, over sixteen bytes\n", false, true},
		{"idle-timeout", []string{"-i", "300ms"}, "", "", true, false},
		{"delay", []string{"-d", "20ms"}, "one\ntwo\n", "back\n", false, false},
	}
	type outcome struct {
		peer, stdout, log string
		code              int
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res [2]outcome
			for i, bin := range []string{sockit, ncat} {
				port, got := peerServer(t, tt.send, tt.hold)
				logPath := filepath.Join(t.TempDir(), "log")
				args := []string{bin}
				for _, f := range tt.flags {
					args = append(args, strings.ReplaceAll(f, "LOG", logPath))
				}
				var stdin io.Reader = strings.NewReader(tt.stdin)
				if tt.name == "idle-timeout" {
					// stdin stays open: the session ends from the other side.
					r, w, _ := os.Pipe()
					defer w.Close()
					defer r.Close()
					stdin = r
				}
				p := testenv.Start(t, stdin, append(args, "127.0.0.1", port)...)
				res[i].code = p.Wait(t)
				res[i].stdout = p.Stdout.String()
				res[i].peer = <-got
				if tt.log {
					b, _ := os.ReadFile(logPath)
					res[i].log = string(b)
				}
				if i == 0 && res[i].code != 0 && tt.name != "idle-timeout" {
					t.Logf("sockit stderr: %s", p.Stderr.String())
				}
			}
			if res[0] != res[1] {
				t.Errorf("sockit %+v\nncat   %+v", res[0], res[1])
			}
		})
	}
}

// TestInvokedAsNcat: through a link named ncat, messages take ncat's
// "Ncat:" prefix and wording, for scripts that read them.
func TestInvokedAsNcat(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	real := testenv.Peer(t, "ncat")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, bin := range []string{link, real} {
		p := testenv.Start(t, strings.NewReader(""), bin, "127.0.0.1", port)
		if code := p.Wait(t); code != 1 || p.Stderr.String() != "Ncat: Connection refused.\n" {
			t.Errorf("%s: exit %d, stderr %q; want 1 and ncat's line", bin, code, p.Stderr.String())
		}
	}
}

// halfCloseProbe accepts one connection and reports whether the client
// half-closed (EOF within a second of its data) or kept its write side open,
// then answers and closes.
func halfCloseProbe(t *testing.T) (port string, seen <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 1)
	go func() {
		defer ln.Close()
		c, err := ln.Accept()
		if err != nil {
			ch <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(time.Second))
		b, err := io.ReadAll(c)
		state := "half-closed"
		if errors.Is(err, os.ErrDeadlineExceeded) {
			state = "open"
		}
		c.Write([]byte("answer\n"))
		ch <- string(b) + " " + state
	}()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, ch
}

// TestNoShutdownMatchesNcat: at stdin EOF the client half-closes, or with
// --no-shutdown keeps its write side open; either way the answer arrives.
func TestNoShutdownMatchesNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	for _, flags := range [][]string{nil, {"--no-shutdown"}} {
		var res [2]string
		for i, bin := range []string{sockit, ncat} {
			port, seen := halfCloseProbe(t)
			p := testenv.Start(t, strings.NewReader("data\n"), append(append([]string{bin}, flags...), "127.0.0.1", port)...)
			code := p.Wait(t)
			res[i] = fmt.Sprintf("peer saw %q, stdout %q, exit %d", <-seen, p.Stdout.String(), code)
		}
		if res[0] != res[1] {
			t.Errorf("%v:\nsockit %s\nncat   %s", flags, res[0], res[1])
		}
		if want := map[bool]string{false: "half-closed", true: "open"}[flags != nil]; !strings.Contains(res[0], want) {
			t.Errorf("%v: %s, want the peer to see the write side %s", flags, res[0], want)
		}
	}
}

// TestConnectTimeoutMatchesNcat: -w ends a connect that gets no answer
// (a listener whose accept queue is full drops the SYN) with exit 1 and,
// through a link named ncat, ncat's exact line.
func TestConnectTimeoutMatchesNcat(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	real := testenv.Peer(t, "ncat")
	port := fullListener(t)
	for _, bin := range []string{link, real} {
		p := testenv.Start(t, strings.NewReader(""), bin, "-w", "300ms", "127.0.0.1", port)
		if code := p.Wait(t); code != 1 || p.Stderr.String() != "Ncat: TIMEOUT.\n" {
			t.Errorf("%s: exit %d, stderr %q; want 1 and ncat's line", bin, code, p.Stderr.String())
		}
	}
	p := testenv.Start(t, strings.NewReader(""), testenv.Binary(t), "-w", "300ms", "127.0.0.1", port)
	if code := p.Wait(t); code != 1 || p.Stderr.String() != "sockit: Connect to 127.0.0.1:"+port+": timed out after 300ms.\n" {
		t.Errorf("sockit: exit %d, stderr %q", code, p.Stderr.String())
	}
}

// fullListener returns the port of a listener with backlog 0 whose queue
// is full, so that further SYNs go unanswered.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port := strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
	// Fill the queue; each of these completes its handshake and waits.
	for range 3 {
		c, err := net.DialTimeout("tcp4", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}
	return port
}

// TestMaxConnsMatchesNcat: with -lk -m 1, a second client is closed
// without a byte while the first is served, and once the first leaves a
// third is served; stdout holds what the served clients sent.
func TestMaxConnsMatchesNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	var res [2]string
	for i, bin := range []string{sockit, ncat} {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		pr, pw, _ := os.Pipe()
		defer pw.Close()
		srv := testenv.Start(t, pr, bin, "-v", "-lk", "-m", "1", "127.0.0.1", port)
		pr.Close()
		srv.WaitListening(t)
		dial := func() net.Conn {
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			return c
		}
		waitStdout := func(s string) {
			for j := 0; j < 500 && !strings.Contains(srv.Stdout.String(), s); j++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		c1 := dial()
		c1.Write([]byte("first\n"))
		waitStdout("first\n")
		c2 := dial()
		n, err := c2.Read(make([]byte, 10))
		second := fmt.Sprintf("%d bytes, closed %v", n, err == io.EOF || errors.Is(err, syscall.ECONNRESET))
		c2.Close()
		c1.Close()
		// The slot frees once the server sees c1 go; retry until served.
		third := "not served"
		for j := 0; j < 50 && third == "not served"; j++ {
			c3 := dial()
			c3.Write([]byte("third\n"))
			for k := 0; k < 20 && !strings.Contains(srv.Stdout.String(), "third\n"); k++ {
				time.Sleep(10 * time.Millisecond)
			}
			if strings.Contains(srv.Stdout.String(), "third\n") {
				pw.Write([]byte("to all\n"))
				b := make([]byte, 7)
				_, err := io.ReadFull(c3, b)
				third = fmt.Sprintf("got %q, %v", b, err)
			}
			c3.Close()
		}
		srv.Cmd.Process.Kill()
		srv.Wait(t)
		res[i] = fmt.Sprintf("second: %s; third: %s; stdout %q; denied logged %v", second, third,
			srv.Stdout.String(), strings.Contains(srv.Stderr.String(), "New connection denied: connection limit reached (1)"))
	}
	t.Logf("sockit %s", res[0])
	if res[0] != res[1] {
		t.Errorf("\nsockit %s\nncat   %s", res[0], res[1])
	}
}

// TestNcatLinkErrorsMatchNcat: through the ncat link, bad command lines
// get ncat's stderr, byte for byte, and its exit code.
func TestNcatLinkErrorsMatchNcat(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	real := testenv.Peer(t, "ncat")
	refused := testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, args := range [][]string{
		{"-Y", "127.0.0.1", refused},
		{"--bogus", "127.0.0.1", refused},
		{"--exec"},
		{"-k", "127.0.0.1", refused},
		{"-e", "/bin/cat", "-c", "cat", "127.0.0.1", refused},
		{"-l", "-z", "127.0.0.1", refused},
		{"-z", "-e", "cat", "127.0.0.1", refused},
		{"--proxy", "127.0.0.1:1", "-l", refused},
		{"--proxy-type", "foo", "--proxy", "127.0.0.1:1", "127.0.0.1", refused},
		{"--ssl-cert", "/nonexistent", "127.0.0.1", refused},
		{"-p", "70000", "127.0.0.1", refused},
		{"-p", "x", "127.0.0.1", refused},
		{"-n", "localhost", refused},
		{"--allow", "127.0.0.2", "127.0.0.1", refused},
		{"127.0.0.1", refused, "2"},
		{"127.0.0.1", refused},
		{"-w", "0", "127.0.0.1", refused},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var code [2]int
			var stderr [2]string
			for i, bin := range []string{link, real} {
				p := testenv.Start(t, strings.NewReader(""), append([]string{bin}, args...)...)
				// getopt's lines start with argv[0], which differs.
				code[i], stderr[i] = p.Wait(t), strings.ReplaceAll(p.Stderr.String(), bin+":", "ncat:")
			}
			if code[0] != code[1] || stderr[0] != stderr[1] {
				t.Errorf("sockit as ncat: exit %d, stderr %q\nncat:           exit %d, stderr %q", code[0], stderr[0], code[1], stderr[1])
			}
		})
	}
}

// TestEOFPolicyMatchesNcat: ncat's listener quits when its client's
// stream ends, though stdin is still open; its client waits for stdin.
// sockit waits for both unless --eof says otherwise, and its ncat link
// does what ncat does.
func TestEOFPolicyMatchesNcat(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	sockit, ncat := testenv.Binary(t), testenv.Peer(t, "ncat")
	for _, tt := range []struct {
		name   string
		argv   []string
		listen bool
		quits  bool // ends at the peer's EOF while stdin is open
	}{
		{"ncat listener", []string{ncat, "-l"}, true, true},
		{"ncat link listener", []string{link, "-l"}, true, true},
		{"sockit listener", []string{sockit, "-l"}, true, false},
		{"sockit listener --eof=remote", []string{sockit, "--eof=remote", "-l"}, true, true},
		{"ncat link listener --eof=wait", []string{link, "--eof=wait", "-l"}, true, false},
		{"ncat connect", []string{ncat}, false, false},
		{"ncat link connect", []string{link}, false, false},
		{"sockit connect --eof=remote", []string{sockit, "--eof", "remote"}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdinR, stdinW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdinW.Close()
			var p *testenv.Proc
			var c net.Conn
			if tt.listen {
				port := testenv.FreePort(t, "tcp4", "127.0.0.1")
				p = testenv.Start(t, stdinR, append(tt.argv, "-v", "127.0.0.1", port)...)
				p.WaitListening(t)
				if c, err = net.Dial("tcp4", "127.0.0.1:"+port); err != nil {
					t.Fatal(err)
				}
			} else {
				ln, err := net.Listen("tcp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				_, port, _ := net.SplitHostPort(ln.Addr().String())
				p = testenv.Start(t, stdinR, append(tt.argv, "127.0.0.1", port)...)
				if c, err = ln.Accept(); err != nil {
					t.Fatal(err)
				}
				ln.Close()
			}
			stdinR.Close()
			defer c.Close()
			c.Write([]byte("last words\n"))
			c.(*net.TCPConn).CloseWrite()
			select {
			case <-exited(p):
				if !tt.quits {
					t.Fatalf("quit at the peer's EOF with stdin open (exit %d)", p.Wait(t))
				}
			case <-time.After(time.Second):
				if tt.quits {
					t.Fatal("still running a second after the peer's EOF")
				}
				stdinW.Close() // now both streams are done
			}
			if code := p.Wait(t); code != 0 || p.Stdout.String() != "last words\n" {
				t.Errorf("exit %d, stdout %q", code, p.Stdout.String())
			}
		})
	}
}

// TestMaxConnsZero: under the ncat name, -lk -m 0 lets no client in, as
// ncat; sockit's own -m 0 means no limit. -m without -k is ignored with
// ncat's warning.
func TestMaxConnsZero(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		bin    string
		served bool
	}{{testenv.Peer(t, "ncat"), false}, {link, false}, {testenv.Binary(t), true}} {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		pr, pw, _ := os.Pipe()
		srv := testenv.Start(t, pr, tt.bin, "-v", "-lk", "-m", "0", "127.0.0.1", port)
		pr.Close()
		srv.WaitListening(t)
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("hello\n"))
		if tt.served {
			for j := 0; j < 500 && !strings.Contains(srv.Stdout.String(), "hello\n"); j++ {
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.Contains(srv.Stdout.String(), "hello\n") {
				t.Errorf("%s -m 0 did not serve the client", tt.bin)
			}
		} else if n, err := c.Read(make([]byte, 10)); n != 0 || err == nil {
			t.Errorf("%s -m 0: client read %d bytes, %v; want it closed", tt.bin, n, err)
		}
		c.Close()
		pw.Close()
		srv.Cmd.Process.Kill()
		srv.Wait(t)
		if !tt.served && !strings.Contains(srv.Stderr.String(), "New connection denied: connection limit reached (0)") {
			t.Errorf("%s: %s", tt.bin, srv.Stderr.String())
		}
	}
	for _, bin := range []string{testenv.Peer(t, "ncat"), link} {
		p := testenv.Start(t, strings.NewReader(""), bin, "-l", "-m", "3", "127.0.0.1", testenv.FreePort(t, "tcp4", "127.0.0.1"))
		for j := 0; j < 500 && !strings.Contains(p.Stderr.String(), "Warning"); j++ {
			time.Sleep(10 * time.Millisecond)
		}
		p.Cmd.Process.Kill()
		p.Wait(t)
		if want := "Ncat: Warning: Maximum connections ignored, since it does not take effect without -k or --broker.\n"; !strings.HasPrefix(p.Stderr.String(), want) {
			t.Errorf("%s -l -m 3: stderr %q, want %q", bin, p.Stderr.String(), want)
		}
	}
}

// TestVersionSubcommand: `sockit version` alone says what this build is
// rather than dialling a host named "version".
func TestVersionSubcommand(t *testing.T) {
	p := testenv.Start(t, nil, testenv.Binary(t), "version")
	if code := p.Wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, p.Stderr.String())
	}
	out := p.Stdout.String()
	for _, want := range []string{"sockit ", "\n  commit    ", "\n  go        go1.", "\n  platform  " + runtime.GOOS + "/" + runtime.GOARCH + "\n", "\n  paths     TLS"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if p.Stderr.Len() != 0 {
		t.Errorf("stderr: %s", p.Stderr.String())
	}
}

// TestExecLogsMatchNcat: a listener that runs a command per client logs
// with -o and -x what the client and the command said, as ncat does
// (which then relays the child's bytes itself instead of handing it the
// socket).
func TestExecLogsMatchNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	for _, flag := range []string{"-o", "-x"} {
		var logs [2]string
		for i, bin := range []string{sockit, ncat} {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			logPath := filepath.Join(t.TempDir(), "log")
			p := testenv.Start(t, nil, bin, "-l", "127.0.0.1", port, "-e", "/bin/cat", flag, logPath)
			waitTCP(t, "127.0.0.1:"+port)
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("said to the command\n"))
			if _, err := io.ReadFull(c, make([]byte, len("said to the command\n"))); err != nil {
				t.Fatalf("%s: no echo: %v", bin, err)
			}
			c.Close()
			p.Wait(t)
			b, _ := os.ReadFile(logPath)
			logs[i] = string(b)
		}
		if logs[0] != logs[1] || !strings.Contains(logs[1], "said") && flag == "-o" {
			t.Errorf("%s: sockit logged %q, ncat %q", flag, logs[0], logs[1])
		}
	}
}

// TestKeepOpenLogsMatchNcat: with -k (stdin to every client) and with
// --broker, two clients, -o logs what the clients sent and what went
// out, as ncat's does: a broker logs a client's message when it reads it
// and when it broadcasts it, and stdin's lines once each, however many
// clients hear them.
func TestKeepOpenLogsMatchNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	for _, mode := range []string{"-k", "--broker"} {
		var logs [2]string
		for i, bin := range []string{sockit, ncat} {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			logPath := filepath.Join(t.TempDir(), "log")
			stdin, feed, _ := os.Pipe()
			p := testenv.Start(t, stdin, bin, "-l", mode, "127.0.0.1", port, "-o", logPath)
			stdin.Close()
			waitTCP(t, "127.0.0.1:"+port)
			var clients []net.Conn
			for range 2 {
				c, err := net.Dial("tcp4", "127.0.0.1:"+port)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients = append(clients, c)
			}
			settled := func() string { // the log once it stops growing
				prev := "\x00"
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					b, _ := os.ReadFile(logPath)
					if string(b) == prev && prev != "" {
						break
					}
					prev = string(b)
				}
				return prev
			}
			for j, c := range clients {
				fmt.Fprintf(c, "from client %d\n", j)
				settled()
			}
			feed.Write([]byte("from stdin\n"))
			for _, c := range clients {
				if _, err := io.ReadFull(c, make([]byte, len("from stdin\n"))); err != nil {
					t.Fatalf("%s %s: a client did not hear stdin: %v", bin, mode, err)
				}
			}
			logs[i] = settled()
			feed.Close()
			p.Cmd.Process.Kill()
			p.Wait(t)
		}
		if logs[0] != logs[1] {
			t.Errorf("%s -o: sockit logged %q, ncat %q", mode, logs[0], logs[1])
		}
	}
}
