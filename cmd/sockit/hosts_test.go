package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// TestListenByNameMeetsClientByName: with Debian's stock /etc/hosts, where
// localhost is both ::1 and 127.0.0.1, UDP, TCP and TLS listeners by name
// meet clients by name. Each process runs in a mount namespace of its own
// with a private /etc/hosts bound over the real one (root only).
func TestListenByNameMeetsClientByName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare -m and mount --bind")
	}
	unshare := testenv.Peer(t, "unshare")
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n"), 0o644)
	inNS := func(argv ...string) []string {
		return append([]string{unshare, "-m", "sh", "-c", `mount --bind "$0" /etc/hosts && exec "$@"`, hosts}, argv...)
	}
	c := makeCerts(t)
	sockit := testenv.Binary(t)
	for _, tc := range []struct {
		name         string
		server, dial []string
	}{
		{"udp", []string{"-u"}, []string{"-u"}},
		{"tcp", nil, nil},
		{"tls", []string{"--ssl-cert", c.srv, "--ssl-key", c.srvKey}, []string{"--ssl-verify", "--ssl-trustfile", c.ca}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			pr, pw, _ := os.Pipe()
			defer pw.Close()
			srv := testenv.Start(t, pr, inNS(append(append([]string{sockit, "-v", "-l"}, tc.server...), "localhost", port)...)...)
			pr.Close()
			srv.WaitListening(t)
			cr, cw, _ := os.Pipe()
			defer cw.Close()
			cl := testenv.Start(t, cr, inNS(append(append([]string{sockit}, tc.dial...), "localhost", port)...)...)
			cr.Close()
			cw.WriteString("hello by name\n")
			for i := 0; i < 1000 && !strings.Contains(srv.Stdout.String(), "hello by name"); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			if !strings.Contains(srv.Stdout.String(), "hello by name\n") {
				t.Fatalf("the listener got %q; its log:\n%s\nthe client's:\n%s", srv.Stdout.String(), srv.Stderr.String(), cl.Stderr.String())
			}
			pw.WriteString("and back\n")
			for i := 0; i < 1000 && !strings.Contains(cl.Stdout.String(), "and back"); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			if cl.Stdout.String() != "and back\n" {
				t.Fatalf("the client got %q; its log:\n%s", cl.Stdout.String(), cl.Stderr.String())
			}
			if !strings.Contains(srv.Stderr.String(), "Listening on [::1]:"+port) {
				t.Errorf("the listener did not take localhost's first address, ::1:\n%s", srv.Stderr.String())
			}
		})
	}
}
