package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// served connects from source to a -lk -e cat server and reports whether
// its line came back.
func served(t *testing.T, source, port string) bool {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := "from " + source + "\n"
	c.Write([]byte(msg))
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	return err == nil && string(got) == msg
}

// TestAccessMatchesNcat: the same --allow/--deny lists admit the same
// loopback sources (127.0.0.1 to .4) in ncat and in sockit, and a
// denied peer gets no byte and never reaches the command.
func TestAccessMatchesNcat(t *testing.T) {
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	dir := t.TempDir()
	allowFile := filepath.Join(dir, "allow")
	os.WriteFile(allowFile, []byte("127.0.0.2\n127.0.0.3\n"), 0o644) // ncat takes no comments; sockit skips # ones
	spacedFile := filepath.Join(dir, "spaced")
	os.WriteFile(spacedFile, []byte("127.0.0.2 127.0.0.4\n\n  127.0.0.3/32\t\n"), 0o644) // several entries a line, blank lines
	tests := []struct {
		name  string
		flags []string
	}{
		{"allow one", []string{"--allow", "127.0.0.2"}},
		{"allow list", []string{"--allow", "127.0.0.2,127.0.0.4"}},
		{"allow cidr", []string{"--allow", "127.0.0.0/31"}},
		{"allow range", []string{"--allow", "127.0.0.2-3"}},
		{"allow wildcard", []string{"--allow", "127.0.0.*"}},
		{"deny one", []string{"--deny", "127.0.0.3"}},
		{"deny wins", []string{"--allow", "127.0.0.0/24", "--deny", "127.0.0.1"}},
		{"allowfile", []string{"--allowfile", allowFile}},
		{"allowfile spaced", []string{"--allowfile", spacedFile}},
		{"denyfile spaced", []string{"--denyfile", spacedFile}},
		{"name", []string{"--allow", "localhost"}},
	}
	sources := []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]string
			for i, bin := range []string{sockit, ncat} {
				port := testenv.FreePort(t, "tcp4", "127.0.0.1")
				srv := testenv.Start(t, nil, append([]string{bin, "-v", "-lk", "127.0.0.1", port, "-e", "/bin/cat"}, tt.flags...)...)
				srv.WaitListening(t)
				var b strings.Builder
				for _, src := range sources {
					fmt.Fprintf(&b, "%s:%v ", src, served(t, src, port))
				}
				got[i] = b.String()
				if i == 0 && strings.Contains(got[i], "false") && !strings.Contains(srv.Stderr.String(), "New connection denied: not allowed") {
					t.Errorf("sockit logged no denial: %s", srv.Stderr.String())
				}
			}
			if got[0] != got[1] {
				t.Errorf("sockit %s\nncat   %s", got[0], got[1])
			}
		})
	}
}

// TestExecWarning: a listener that runs a command on a non-loopback
// address without --allow says so, once; on loopback it does not.
func TestExecWarning(t *testing.T) {
	sockit := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, sockit, "-v", "-lk", "0.0.0.0", port, "-e", "/bin/cat")
	srv.WaitListening(t)
	if n := strings.Count(srv.Stderr.String(), "WARNING"); n != 1 || !strings.Contains(srv.Stderr.String(), "--allow") {
		t.Errorf("open listener: %q", srv.Stderr.String())
	}
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv = testenv.Start(t, nil, sockit, "-v", "-lk", "127.0.0.1", port, "-e", "/bin/cat")
	srv.WaitListening(t)
	if strings.Contains(srv.Stderr.String(), "WARNING") {
		t.Errorf("loopback listener warned: %q", srv.Stderr.String())
	}
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv = testenv.Start(t, nil, sockit, "-v", "-l", "--proxy-type", "socks5", "0.0.0.0", port)
	srv.WaitListening(t)
	if n := strings.Count(srv.Stderr.String(), "WARNING"); n != 1 || !strings.Contains(srv.Stderr.String(), "socks5 proxy") {
		t.Errorf("open proxy: %q", srv.Stderr.String())
	}
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv = testenv.Start(t, nil, sockit, "-v", "-l", "--proxy-type", "http", "--allow", "127.0.0.1", "0.0.0.0", port)
	srv.WaitListening(t)
	if strings.Contains(srv.Stderr.String(), "WARNING") {
		t.Errorf("proxy with --allow warned: %q", srv.Stderr.String())
	}
}

// TestScanMatchesNc: -z over a port list reports the same open ports as
// OpenBSD nc -z, and the same exit status (0 when any is open).
func TestScanMatchesNc(t *testing.T) {
	sockit := testenv.Binary(t)
	nc := testenv.Peer(t, "nc.openbsd")
	var open []string
	for range 2 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		open = append(open, p)
	}
	closed := testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, ports := range [][]string{{open[0], closed, open[1]}, {closed}} {
		list := strings.Join(ports, " ")
		s := testenv.Start(t, nil, append([]string{sockit, "-v", "-z", "127.0.0.1"}, ports...)...)
		sc := s.Wait(t)
		n := testenv.Start(t, nil, append([]string{nc, "-v", "-z", "127.0.0.1"}, ports...)...)
		ncode := n.Wait(t)
		var sOpen, nOpen []string
		for _, p := range append(open, closed) {
			if strings.Contains(s.Stderr.String(), "Connected to 127.0.0.1:"+p+".") {
				sOpen = append(sOpen, p)
			}
			if strings.Contains(n.Stderr.String(), "127.0.0.1 "+p+" port [tcp/") {
				nOpen = append(nOpen, p)
			}
		}
		if sc != ncode || fmt.Sprint(sOpen) != fmt.Sprint(nOpen) {
			t.Errorf("%s: sockit exit %d open %v; nc exit %d open %v\nsockit: %s\nnc: %s", list, sc, sOpen, ncode, nOpen, s.Stderr.String(), n.Stderr.String())
		}
	}
}
