package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		{"recv-only", []string{"--recv-only"}, "not sent\n", "from peer\n", false, false},
		{"send-only", []string{"--send-only"}, "only this\n", "ignored\n", true, false},
		{"output", []string{"-o", "LOG"}, "", "logged bytes\n", false, true},
		{"hex-dump", []string{"-x", "LOG"}, "", "hex \x00\x01\xff dumped, over sixteen bytes\n", false, true},
		{"idle-timeout", []string{"-i", "300ms"}, "", "", true, false},
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
