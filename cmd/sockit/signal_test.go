package main

import (
	"os"
	"path/filepath"
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
				p.Cmd.Process.Signal(sig)
				select {
				case <-exited(p):
				case <-time.After(5 * time.Second):
					t.Fatalf("still running 5 s after %v", sig)
				}
				if code := p.Cmd.ProcessState.ExitCode(); code != 128+int(sig) {
					t.Errorf("exit %d after %v, stderr %q", code, sig, p.Stderr.String())
				}
				if tt.network == "unix" {
					if _, err := os.Stat(tt.addr); !os.IsNotExist(err) {
						t.Errorf("%s left behind", tt.addr)
					}
				}
			})
		}
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
