package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// TestDatagramListenerEndsOnSignal: a UDP or Unix datagram listener that
// waits for its first peer ends on SIGINT and SIGTERM (it used to ignore
// them until SIGKILL), removes its socket file, and exits 128+signal.
func TestDatagramListenerEndsOnSignal(t *testing.T) {
	bin := testenv.Binary(t)
	dir := t.TempDir()
	port := testenv.FreePort(t, "udp4", "127.0.0.1")
	port6 := testenv.FreePort(t, "udp6", "::1")
	tests := []struct {
		name    string
		argv    []string
		network string
		addr    string
	}{
		{"udp", []string{bin, "-l", "-u", "127.0.0.1", port}, "udp", "127.0.0.1:" + port},
		{"udp6", []string{bin, "-6", "-l", "-u", "::1", port6}, "udp", "[::1]:" + port6},
		{"unixgram", []string{bin, "-l", "-u", "-U", filepath.Join(dir, "g.sock")}, "unix", filepath.Join(dir, "g.sock")},
		{"relay udp-recvfrom", []string{bin, "relay", "UDP4-RECVFROM:" + port + ",bind=127.0.0.1", "-"}, "udp", "127.0.0.1:" + port},
		{"relay unix-recvfrom", []string{bin, "relay", "UNIX-RECVFROM:" + filepath.Join(dir, "r.sock"), "-"}, "unix", filepath.Join(dir, "r.sock")},
	}
	for _, tt := range tests {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(tt.name+"/"+sig.String(), func(t *testing.T) {
				p := testenv.Start(t, nil, tt.argv...)
				waitBound(t, tt.network, tt.addr)
				signalAndWait(t, p, sig)
				if tt.network == "unix" {
					if _, err := os.Stat(tt.addr); !os.IsNotExist(err) {
						t.Errorf("%s left behind", tt.addr)
					}
				}
			})
		}
	}
}

// signalAndWait signals p, waits until it is gone and checks that it
// exited 128+sig.
func signalAndWait(t *testing.T, p *testenv.Proc, sig syscall.Signal) {
	t.Helper()
	p.Cmd.Process.Signal(sig)
	select {
	case <-exited(p):
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after %v", sig)
	}
	if code := p.Cmd.ProcessState.ExitCode(); code != 128+int(sig) {
		t.Errorf("exit %d after %v, stderr %q", code, sig, p.Stderr.String())
	}
}

// exited is closed when p has exited.
func exited(p *testenv.Proc) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		for !p.Exited() {
			time.Sleep(5 * time.Millisecond)
		}
		close(ch)
	}()
	return ch
}

// TestEveryModeEndsOnSignal: every long-running mode ends on SIGINT,
// SIGTERM and SIGHUP with status 128+signal, removes the socket file it
// made, and leaves no child behind.
func TestEveryModeEndsOnSignal(t *testing.T) {
	bin := testenv.Binary(t)
	type mode struct {
		name string
		argv func(port, dir string) []string
		// client: connect a client (and wait until a child serves it).
		client bool
		child  bool
		unix   string // a socket file the mode makes, under dir
	}
	modes := []mode{
		{name: "listen", argv: func(p, _ string) []string { return []string{bin, "-l", "127.0.0.1", p} }},
		{name: "keep-open", argv: func(p, _ string) []string { return []string{bin, "-l", "-k", "127.0.0.1", p} }, client: true},
		{name: "unix listen", argv: func(_, d string) []string { return []string{bin, "-l", "-U", filepath.Join(d, "s.sock")} }, unix: "s.sock"},
		{name: "broker", argv: func(p, _ string) []string { return []string{bin, "--broker", "-l", "127.0.0.1", p} }, client: true},
		{name: "chat", argv: func(p, _ string) []string { return []string{bin, "--chat", "-l", "127.0.0.1", p} }, client: true},
		{name: "proxy server", argv: func(p, _ string) []string { return []string{bin, "-l", "--proxy-type", "http", "127.0.0.1", p} }, client: true},
		{name: "exec", argv: func(p, _ string) []string { return []string{bin, "-l", "-k", "-e", "/bin/cat", "127.0.0.1", p} }, client: true, child: true},
		{name: "relay fork", argv: func(p, _ string) []string {
			return []string{bin, "relay", "TCP-LISTEN:" + p + ",bind=127.0.0.1,fork", "SYSTEM:cat"}
		}, client: true, child: true},
		{name: "connect", argv: nil, client: false},
		{name: "nc listen", argv: func(p, _ string) []string { return []string{bin, "nc", "-l", "127.0.0.1", p} }},
		{name: "nc keep-open", argv: func(p, _ string) []string { return []string{bin, "nc", "-lk", "127.0.0.1", p} }, client: true},
		{name: "nc unix listen", argv: func(_, d string) []string { return []string{bin, "nc", "-lU", filepath.Join(d, "n.sock")} }, unix: "n.sock"},
		{name: "nc.traditional exec", argv: func(p, _ string) []string {
			return []string{bin, "nc.traditional", "-l", "-p", p, "-s", "127.0.0.1", "-e", "/bin/cat"}
		}, client: true, child: true},
	}
	for _, m := range modes {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(m.name+"/"+sig.String(), func(t *testing.T) {
				dir := t.TempDir()
				port := testenv.FreePort(t, "tcp4", "127.0.0.1")
				argv := []string{bin, "127.0.0.1", port}
				var held chan net.Conn
				if m.argv == nil { // connect: a server that holds the connection
					ln, err := net.Listen("tcp4", "127.0.0.1:"+port)
					if err != nil {
						t.Fatal(err)
					}
					defer ln.Close()
					held = make(chan net.Conn, 1)
					go func() {
						if c, err := ln.Accept(); err == nil {
							held <- c
						}
					}()
				} else {
					argv = m.argv(port, dir)
				}
				stdin, keep, _ := os.Pipe()
				defer keep.Close()
				p := testenv.Start(t, stdin, argv...)
				stdin.Close()
				switch {
				case held != nil:
					select {
					case c := <-held:
						defer c.Close()
					case <-time.After(10 * time.Second):
						t.Fatal("sockit did not connect")
					}
				case m.unix != "":
					waitBound(t, "unix", filepath.Join(dir, m.unix))
				default:
					waitTCP(t, "127.0.0.1:"+port)
				}
				var kids []string
				if m.client {
					c, err := net.Dial("tcp4", "127.0.0.1:"+port)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					for i := 0; m.child && i < 1000; i++ {
						if kids = testenv.Children(t, p.Cmd.Process.Pid); len(kids) > 0 {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					if m.child && len(kids) == 0 {
						t.Fatal("no child started for the client")
					}
				}
				signalAndWait(t, p, sig)
				if m.unix != "" {
					if _, err := os.Stat(filepath.Join(dir, m.unix)); !os.IsNotExist(err) {
						t.Errorf("%s left behind", m.unix)
					}
				}
				for _, k := range kids {
					stat := "/proc/" + strings.Fields(k)[0] + "/stat"
					for i := 0; i < 500; i++ {
						if _, err := os.Stat(stat); os.IsNotExist(err) {
							break
						}
						time.Sleep(10 * time.Millisecond)
					}
					if _, err := os.Stat(stat); err == nil {
						t.Errorf("child %s outlived sockit", k)
					}
				}
			})
		}
	}
}
