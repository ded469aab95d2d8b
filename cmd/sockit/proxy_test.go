package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// converse runs a client that writes msg, waits (at most 10 s) until its
// stdout holds the echo, then ends its input; some proxies drop a tunnel
// as soon as the client half-closes, so the answer must come first.
func converse(t *testing.T, msg string, argv ...string) (stdout string, code int) {
	t.Helper()
	in, w, err := os.Pipe() // a file, so the child's exit is seen at once
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, in, argv...)
	in.Close()
	w.Write([]byte(msg))
	for i := 0; i < 1000 && !strings.Contains(p.Stdout.String(), msg) && !p.Exited(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	w.Close()
	code = p.Wait(t)
	if code != 0 {
		t.Logf("%v: %s", argv, p.Stderr.String())
	}
	return p.Stdout.String(), code
}

// startProxies runs Dante (SOCKS4, SOCKS4A, SOCKS5), microsocks (SOCKS5,
// with and without a password) and ncat's HTTP proxy on loopback.
func startProxies(t *testing.T) (dante, socks5, socks5auth, http string) {
	t.Helper()
	danted := testenv.Peer(t, "danted")
	microsocks := testenv.Peer(t, "microsocks")
	ncat := testenv.Peer(t, "ncat")
	if os.Geteuid() != 0 {
		t.Skip("Dante wants to run as root here")
	}
	dante = testenv.FreePort(t, "tcp4", "127.0.0.1")
	conf := filepath.Join(t.TempDir(), "danted.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`logoutput: stderr
internal: 127.0.0.1 port = %s
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 protocol: tcp }
`, dante)), 0o644)
	testenv.Start(t, nil, danted, "-f", conf, "-p", filepath.Join(t.TempDir(), "pid"))
	socks5 = testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, microsocks, "-i", "127.0.0.1", "-p", socks5)
	socks5auth = testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, microsocks, "-i", "127.0.0.1", "-p", socks5auth, "-u", "alice", "-P", "secret")
	http = testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, ncat, "-l", "--proxy-type", "http", "127.0.0.1", http)
	for _, p := range []string{dante, socks5, socks5auth, http} {
		waitTCP(t, "127.0.0.1:"+p)
	}
	return
}

// TestRelayProxiesMatchSocat: the proxy addresses through real proxy
// servers, against socat where socat 1.7 has the address (SOCKS4, SOCKS4A,
// PROXY) and on their own for SOCKS5, which socat 1.7 lacks.
func TestRelayProxiesMatchSocat(t *testing.T) {
	dante, socks5, socks5auth, http := startProxies(t)
	echo := echoServer(t, "tcp4", "127.0.0.1:0")
	_, echoPort, _ := strings.Cut(echo, ":")
	tools := relayTools(t)
	tests := []struct {
		name   string
		addr   string
		socat  bool // socat 1.7 has this address
		served bool // the echo must come back
	}{
		{"socks4", "SOCKS4:127.0.0.1:127.0.0.1:" + echoPort + ",socksport=" + dante, true, true},
		{"socks4a", "SOCKS4A:127.0.0.1:localhost:" + echoPort + ",socksport=" + dante, true, false},
		{"http connect", "PROXY:127.0.0.1:127.0.0.1:" + echoPort + ",proxyport=" + http, true, true},
		{"http connect refused target", "PROXY:127.0.0.1:127.0.0.1:1,proxyport=" + http, true, false},
		{"socks5 dante", "SOCKS5:127.0.0.1:127.0.0.1:" + echoPort + ",socksport=" + dante, false, true},
		{"socks5 name", "SOCKS5:127.0.0.1:localhost:" + echoPort + ",socksport=" + socks5, false, true},
		{"socks5 password", "SOCKS5:127.0.0.1:127.0.0.1:" + echoPort + ",socksport=" + socks5auth + ",socksuser=alice,sockspass=secret", false, true},
		{"socks5 wrong password", "SOCKS5:127.0.0.1:127.0.0.1:" + echoPort + ",socksport=" + socks5auth + ",socksuser=alice,sockspass=guess", false, false},
		{"socks5 no password", "SOCKS5:127.0.0.1:127.0.0.1:" + echoPort + ",socksport=" + socks5auth, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := "through " + tt.name + "\n"
			out, code := converse(t, msg, append(tools["sockit relay"], "-", tt.addr)...)
			if served := code == 0 && out == msg; served != tt.served {
				t.Errorf("sockit: exit %d, stdout %q; want served=%v", code, out, tt.served)
			}
			if tt.socat {
				sout, scode := converse(t, msg, append(tools["socat"], "-", tt.addr)...)
				if (sout == msg) != (out == msg) || (scode == 0) != (code == 0) {
					t.Errorf("socat: exit %d, stdout %q; sockit: exit %d, stdout %q", scode, sout, code, out)
				}
			}
		})
	}
}

// TestProxyFlagsMatchNcat: --proxy with each --proxy-type through real
// proxies, sockit against ncat; then a chain of two proxies, which ncat
// cannot do.
func TestProxyFlagsMatchNcat(t *testing.T) {
	dante, _, socks5auth, http := startProxies(t)
	echo := echoServer(t, "tcp4", "127.0.0.1:0")
	_, echoPort, _ := strings.Cut(echo, ":")
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")
	tests := []struct {
		name  string
		flags []string
	}{
		{"http", []string{"--proxy", "127.0.0.1:" + http}},
		{"socks4", []string{"--proxy", "127.0.0.1:" + dante, "--proxy-type", "socks4"}},
		{"socks5 with password", []string{"--proxy", "127.0.0.1:" + socks5auth, "--proxy-type", "socks5", "--proxy-auth", "alice:secret"}},
		{"socks5 wrong password", []string{"--proxy", "127.0.0.1:" + socks5auth, "--proxy-type", "socks5", "--proxy-auth", "alice:guess"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := "through " + tt.name + "\n"
			out, code := converse(t, msg, append(append([]string{sockit}, tt.flags...), "127.0.0.1", echoPort)...)
			nout, ncode := converse(t, msg, append(append([]string{ncat}, tt.flags...), "127.0.0.1", echoPort)...)
			if (out == msg) != (nout == msg) || (code == 0) != (ncode == 0) {
				t.Errorf("sockit: exit %d, %q; ncat: exit %d, %q", code, out, ncode, nout)
			}
		})
	}
	// --proxy-dns: "none" refuses a name; "local" resolves it here and
	// sends SOCKS4 an address; the default, "remote", lets SOCKS5 resolve.
	name := []string{"127.0.0.1", echoPort}
	name[0] = "localhost"
	if out, code := converse(t, "x\n", append([]string{sockit, "--proxy", "127.0.0.1:" + socks5auth, "--proxy-type", "socks5",
		"--proxy-auth", "alice:secret", "--proxy-dns", "none"}, name...)...); code == 0 {
		t.Errorf("--proxy-dns none with a name: exit 0, %q", out)
	}
	if out, code := converse(t, "y\n", append([]string{sockit, "--proxy", "127.0.0.1:" + dante, "--proxy-type", "socks4",
		"--proxy-dns", "local"}, name...)...); code != 0 || out != "y\n" {
		t.Errorf("--proxy-dns local over socks4: exit %d, %q", code, out)
	}
	if out, code := converse(t, "z\n", append([]string{sockit, "--proxy", "127.0.0.1:" + socks5auth, "--proxy-type", "socks5",
		"--proxy-auth", "alice:secret"}, name...)...); code != 0 || out != "z\n" {
		t.Errorf("remote name over socks5: exit %d, %q", code, out)
	}

	msg := "through two proxies\n"
	out, code := converse(t, msg, sockit, "--proxy", "127.0.0.1:"+dante, "--proxy", "127.0.0.1:"+socks5auth,
		"--proxy-type", "socks5", "--proxy-auth", "alice:secret", "127.0.0.1", echoPort)
	if code != 0 || out != msg {
		t.Errorf("chain: exit %d, stdout %q", code, out)
	}
}

// TestHTTPProxyAuthMatchesNcat: every client (ncat, sockit, sockit under
// ncat's name) through every HTTP proxy server that wants a password
// (ncat's, sockit's, sockit's under ncat's name). Both ncat's client and
// sockit's ask without credentials, then answer the Digest challenge; the
// right password gets through and a wrong one fails with ncat's status.
func TestHTTPProxyAuthMatchesNcat(t *testing.T) {
	ncat := testenv.Peer(t, "ncat")
	sockit := testenv.Binary(t)
	asNcat := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(sockit, asNcat); err != nil {
		t.Fatal(err)
	}
	echo := echoServer(t, "tcp4", "127.0.0.1:0")
	_, echoPort, _ := strings.Cut(echo, ":")
	servers := map[string]string{}
	for name, bin := range map[string]string{"ncat": ncat, "sockit": sockit, "sockit as ncat": asNcat} {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		testenv.Start(t, nil, bin, "-v", "-l", "-k", "--proxy-type", "http", "--proxy-auth", "alice:secret", "127.0.0.1", port).WaitListening(t)
		servers[name] = port
	}
	clients := map[string]string{"ncat": ncat, "sockit": sockit, "sockit as ncat": asNcat}
	for sname, port := range servers {
		for cname, bin := range clients {
			for _, pw := range []string{"secret", "guess"} {
				t.Run(cname+" via "+sname+" "+pw, func(t *testing.T) {
					msg := "through " + sname + "\n"
					out, code := converse(t, msg, bin, "--proxy", "127.0.0.1:"+port, "--proxy-auth", "alice:"+pw, "127.0.0.1", echoPort)
					if pw == "secret" && (code != 0 || out != msg) {
						t.Errorf("exit %d, stdout %q; want %q", code, out, msg)
					}
					if pw == "guess" && (code != 1 || out != "") {
						t.Errorf("wrong password: exit %d, stdout %q; want exit 1 as ncat's", code, out)
					}
				})
			}
		}
		// A script reading ncat's refusal reads the same line from sockit
		// under ncat's name.
		var lines []string
		for _, bin := range []string{ncat, asNcat} {
			p := testenv.Start(t, strings.NewReader(""), bin, "--proxy", "127.0.0.1:"+port, "--proxy-auth", "alice:guess", "127.0.0.1", echoPort)
			p.Wait(t)
			lines = append(lines, p.Stderr.String())
		}
		if lines[0] != lines[1] || !strings.Contains(lines[0], "407") {
			t.Errorf("via %s: ncat said %q, sockit as ncat %q", sname, lines[0], lines[1])
		}
	}
}

// TestProxyFailuresMatchNcat: a proxy that is not there, and one that
// cannot reach the target, read the same from sockit under ncat's name as
// from ncat, with the same status.
func TestProxyFailuresMatchNcat(t *testing.T) {
	ncat := testenv.Peer(t, "ncat")
	asNcat := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), asNcat); err != nil {
		t.Fatal(err)
	}
	closed := testenv.FreePort(t, "tcp4", "127.0.0.1")
	httpProxy := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, ncat, "-v", "-l", "-k", "--proxy-type", "http", "127.0.0.1", httpProxy).WaitListening(t)
	tests := []struct {
		name  string
		flags []string
	}{
		{"http proxy down", []string{"--proxy", "127.0.0.1:" + closed}},
		{"socks4 proxy down", []string{"--proxy", "127.0.0.1:" + closed, "--proxy-type", "socks4"}},
		{"socks5 proxy down", []string{"--proxy", "127.0.0.1:" + closed, "--proxy-type", "socks5"}},
		{"proxy by name down", []string{"--proxy", "localhost:" + closed}},
		{"target down", []string{"--proxy", "127.0.0.1:" + httpProxy}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr [2]string
			var code [2]int
			for i, bin := range []string{ncat, asNcat} {
				p := testenv.Start(t, strings.NewReader(""), append(append([]string{bin}, tt.flags...), "127.0.0.1", closed)...)
				code[i] = p.Wait(t)
				stderr[i] = p.Stderr.String()
			}
			if stderr[0] != stderr[1] || code[0] != code[1] {
				t.Errorf("ncat: exit %d, %q\nsockit: exit %d, %q", code[0], stderr[0], code[1], stderr[1])
			}
		})
	}
}
