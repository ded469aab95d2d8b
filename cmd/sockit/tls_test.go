package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// certs makes, with the openssl command, a CA and a server certificate
// for localhost and 127.0.0.1 signed by it, plus a client certificate.
type certs struct{ ca, caKey, srv, srvKey, cli, cliKey string }

func makeCerts(t *testing.T) certs {
	t.Helper()
	openssl := testenv.Peer(t, "openssl")
	dir := t.TempDir()
	c := certs{}
	for _, f := range []struct {
		p    *string
		name string
	}{{&c.ca, "ca.pem"}, {&c.caKey, "ca.key"}, {&c.srv, "srv.pem"}, {&c.srvKey, "srv.key"}, {&c.cli, "cli.pem"}, {&c.cliKey, "cli.key"}} {
		*f.p = filepath.Join(dir, f.name)
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"}
	run(append([]string{"req", "-x509", "-keyout", c.caKey, "-out", c.ca, "-days", "1", "-subj", "/CN=sockit test CA"}, ec...)...)
	for _, leaf := range []struct{ cert, key, cn, ext string }{
		{c.srv, c.srvKey, "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"},
		{c.cli, c.cliKey, "client", "extendedKeyUsage=clientAuth"},
	} {
		csr := leaf.cert + ".csr"
		run(append([]string{"req", "-new", "-keyout", leaf.key, "-out", csr, "-subj", "/CN=" + leaf.cn}, ec...)...)
		extFile := leaf.cert + ".ext"
		os.WriteFile(extFile, []byte(leaf.ext+"\n"), 0o600)
		run("x509", "-req", "-in", csr, "-CA", c.ca, "-CAkey", c.caKey, "-CAcreateserial", "-out", leaf.cert, "-days", "1", "-extfile", extFile)
	}
	return c
}

var fingerprintRE = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// TestTLSVerifiesByDefault: a client refuses a server it cannot verify,
// says why, prints the certificate's fingerprint (the one the server
// printed) and the flag to trust it; that flag then works, and so does
// --ssl-insecure, loudly.
func TestTLSVerifiesByDefault(t *testing.T) {
	sockit := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, sockit, "-v", "--ssl", "-lk", "127.0.0.1", port, "-e", "/bin/cat")
	srv.WaitListening(t)
	served := fingerprintRE.FindString(srv.Stderr.String())
	if served == "" {
		t.Fatalf("the server printed no fingerprint:\n%s", srv.Stderr.String())
	}
	p := testenv.Start(t, strings.NewReader("hello\n"), sockit, "--ssl", "127.0.0.1", port)
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Stderr.String(), "unknown authority") ||
		!strings.Contains(p.Stderr.String(), "--ssl-pin "+served) || strings.Count(p.Stderr.String(), "\n") != 1 {
		t.Fatalf("unverified server: exit %d, stderr %q", code, p.Stderr.String())
	}
	p = testenv.Start(t, strings.NewReader("pinned\n"), sockit, "--ssl-pin", served, "127.0.0.1", port)
	if code := p.Wait(t); code != 0 || p.Stdout.String() != "pinned\n" {
		t.Fatalf("pinned: exit %d, stdout %q, stderr %q", code, p.Stdout.String(), p.Stderr.String())
	}
	p = testenv.Start(t, strings.NewReader("insecure\n"), sockit, "--ssl-insecure", "127.0.0.1", port)
	if code := p.Wait(t); code != 0 || p.Stdout.String() != "insecure\n" || !strings.Contains(p.Stderr.String(), "WARNING") {
		t.Fatalf("insecure: exit %d, stdout %q, stderr %q", code, p.Stdout.String(), p.Stderr.String())
	}
	// Invoked as ncat, ncat's default holds: no verification without --ssl-verify.
	link := filepath.Join(t.TempDir(), "ncat")
	os.Symlink(sockit, link)
	p = testenv.Start(t, strings.NewReader("as ncat\n"), link, "--ssl", "127.0.0.1", port)
	if code := p.Wait(t); code != 0 || p.Stdout.String() != "as ncat\n" {
		t.Fatalf("as ncat: exit %d, stdout %q, stderr %q", code, p.Stdout.String(), p.Stderr.String())
	}
	p = testenv.Start(t, strings.NewReader(""), link, "--ssl-verify", "127.0.0.1", port)
	if code := p.Wait(t); code != 1 {
		t.Fatalf("as ncat with --ssl-verify: exit %d, want 1", code)
	}
}

// TestTLSInteropOpenSSL: sockit's client against openssl s_server with a
// CA-signed certificate, and openssl s_client against sockit's server.
func TestTLSInteropOpenSSL(t *testing.T) {
	c := makeCerts(t)
	sockit := testenv.Binary(t)
	openssl := testenv.Peer(t, "openssl")

	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	pr, pw, _ := os.Pipe()
	defer pw.Close()
	srv := testenv.Start(t, pr, openssl, "s_server", "-quiet", "-accept", "127.0.0.1:"+port, "-cert", c.srv, "-key", c.srvKey, "-naccept", "1")
	pr.Close()
	waitTCP(t, "127.0.0.1:"+port)
	pw.Write([]byte("from openssl\n"))
	p := testenv.Start(t, strings.NewReader("from sockit\n"), sockit, "--ssl-trustfile", c.ca, "localhost", port)
	// openssl s_server does not end the session by itself; close its stdin
	// once sockit has the answer.
	for i := 0; i < 500 && !strings.Contains(p.Stdout.String(), "from openssl"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	pw.Close()
	code := p.Wait(t)
	srv.Wait(t)
	if code != 0 || p.Stdout.String() != "from openssl\n" || !strings.Contains(srv.Stdout.String(), "from sockit\n") {
		t.Fatalf("sockit → s_server: exit %d, sockit got %q, s_server got %q; stderr %s", code, p.Stdout.String(), srv.Stdout.String(), p.Stderr.String())
	}
	// The name checked is the one asked for.
	p = testenv.Start(t, strings.NewReader(""), sockit, "--ssl-trustfile", c.ca, "--ssl-servername", "db.example", "127.0.0.1", port)
	if code := p.Wait(t); code != 1 {
		t.Fatalf("wrong server name accepted (exit %d)", code)
	}

	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	ss := testenv.Start(t, nil, sockit, "-v", "--ssl-cert", c.srv, "--ssl-key", c.srvKey, "-lk", "127.0.0.1", port, "-e", "/bin/cat")
	ss.WaitListening(t)
	in, inW := io.Pipe()
	cl := testenv.Start(t, in, openssl, "s_client", "-quiet", "-no_ign_eof", "-verify_return_error", "-CAfile", c.ca,
		"-verify_hostname", "localhost", "-connect", "127.0.0.1:"+port)
	inW.Write([]byte("echo through sockit\n"))
	for i := 0; i < 500 && !strings.Contains(cl.Stdout.String(), "echo through sockit"); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	inW.Close()
	if code := cl.Wait(t); code != 0 || cl.Stdout.String() != "echo through sockit\n" {
		t.Fatalf("s_client → sockit: exit %d, stdout %q, stderr %s", code, cl.Stdout.String(), cl.Stderr.String())
	}
}

// TestTLSInteropNcat: Debian's ncat --ssl against sockit both ways, and
// mutual TLS with sockit on both ends.
func TestTLSInteropNcat(t *testing.T) {
	c := makeCerts(t)
	sockit := testenv.Binary(t)
	ncat := testenv.Peer(t, "ncat")

	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, sockit, "-v", "--ssl", "-lk", "127.0.0.1", port, "-e", "/bin/cat")
	srv.WaitListening(t)
	p := testenv.Start(t, strings.NewReader("ncat to sockit\n"), ncat, "--ssl", "127.0.0.1", port)
	if code := p.Wait(t); code != 0 || p.Stdout.String() != "ncat to sockit\n" {
		t.Fatalf("ncat → sockit: exit %d, stdout %q, stderr %s", code, p.Stdout.String(), p.Stderr.String())
	}

	// ncat's TLS server answers from its stdin (ncat's listener drops
	// what a child would write after the client's close_notify).
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	pr, pw, _ := os.Pipe()
	nsrv := testenv.Start(t, pr, ncat, "-v", "--ssl", "--ssl-cert", c.srv, "--ssl-key", c.srvKey, "-l", "127.0.0.1", port)
	pr.Close()
	nsrv.WaitListening(t)
	pw.Write([]byte("ncat answers\n"))
	pw.Close()
	p = testenv.Start(t, strings.NewReader("sockit to ncat\n"), sockit, "--ssl-trustfile", c.ca, "localhost", port)
	code := p.Wait(t)
	nsrv.Wait(t)
	if code != 0 || p.Stdout.String() != "ncat answers\n" || nsrv.Stdout.String() != "sockit to ncat\n" {
		t.Fatalf("sockit → ncat: exit %d, sockit got %q, ncat got %q, stderr %s", code, p.Stdout.String(), nsrv.Stdout.String(), p.Stderr.String())
	}

	// Mutual TLS: the server requires a client certificate from the CA.
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	msrv := testenv.Start(t, nil, sockit, "-v", "--ssl-cert", c.srv, "--ssl-key", c.srvKey, "--ssl-trustfile", c.ca, "-lk", "127.0.0.1", port, "-e", "/bin/cat")
	msrv.WaitListening(t)
	p = testenv.Start(t, strings.NewReader("no cert\n"), sockit, "--ssl-trustfile", c.ca, "localhost", port)
	if code := p.Wait(t); p.Stdout.String() != "" {
		t.Fatalf("a client without a certificate was served: exit %d, stdout %q", code, p.Stdout.String())
	}
	p = testenv.Start(t, strings.NewReader("with cert\n"), sockit, "--ssl-trustfile", c.ca, "--ssl-cert", c.cli, "--ssl-key", c.cliKey, "localhost", port)
	if code := p.Wait(t); code != 0 || p.Stdout.String() != "with cert\n" {
		t.Fatalf("mutual TLS: exit %d, stdout %q, stderr %s", code, p.Stdout.String(), p.Stderr.String())
	}
}

// TestRelayTLS: 64 MiB each way through `sockit relay OPENSSL-LISTEN:...
// TCP:echo`, and a relay client OPENSSL:...,cafile= to an ncat TLS server.
func TestRelayTLS(t *testing.T) {
	c := makeCerts(t)
	sockit := testenv.Binary(t)
	echo := echoServer(t, "tcp4", "127.0.0.1:0")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	r := testenv.Start(t, nil, sockit, "relay", "-dd", "OPENSSL-LISTEN:"+port+",bind=127.0.0.1,cert="+c.srv+",key="+c.srvKey, "TCP:"+echo)
	waitRelay(t, r)
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(c.ca)
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp4", "127.0.0.1:"+port, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	data := make([]byte, 64<<20)
	rand.Read(data)
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(conn); got <- b }()
	if _, err := conn.Write(data); err != nil {
		t.Fatal(err)
	}
	conn.CloseWrite() // close_notify: the relay half-closes toward the echo
	if b := <-got; !bytes.Equal(b, data) {
		t.Fatalf("got %d bytes back of %d, equal prefix %v", len(b), len(data), bytes.HasPrefix(data, b))
	}
	if code := r.Wait(t); code != 0 {
		t.Errorf("relay exit %d: %s", code, r.Stderr.String())
	}

	// The client side: OPENSSL verifies against cafile (ncat's TLS server
	// answers from its stdin).
	ncat := testenv.Peer(t, "ncat")
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	pr, pw, _ := os.Pipe()
	nsrv := testenv.Start(t, pr, ncat, "-v", "--ssl", "--ssl-cert", c.srv, "--ssl-key", c.srvKey, "-l", "127.0.0.1", port)
	pr.Close()
	nsrv.WaitListening(t)
	pw.Write([]byte("tls answer\n"))
	pw.Close()
	p := testenv.Start(t, strings.NewReader("via relay\n"), sockit, "relay", "-", "OPENSSL:localhost:"+port+",cafile="+c.ca)
	if code := p.Wait(t); code != 0 || p.Stdout.String() != "tls answer\n" {
		t.Fatalf("relay client: exit %d, stdout %q, stderr %s", code, p.Stdout.String(), p.Stderr.String())
	}
	nsrv.Wait(t)
	if nsrv.Stdout.String() != "via relay\n" {
		t.Fatalf("ncat got %q", nsrv.Stdout.String())
	}
	p = testenv.Start(t, strings.NewReader(""), sockit, "relay", "-", "OPENSSL:127.0.0.1:"+testenv.FreePort(t, "tcp4", "127.0.0.1"))
	if code := p.Wait(t); code == 0 {
		t.Fatalf("relay client to nothing: exit 0")
	}
}

// waitTCP waits until something listens at addr (checked in /proc).
func waitTCP(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if listening("tcp", addr) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("nothing listens at %s", addr)
}

// TestMutualTLSWithOpenSSL: client certificates both ways with another
// implementation: sockit's client against `openssl s_server -Verify`, and
// `openssl s_client -cert` against sockit's server requiring one. ALPN is
// offered and chosen on the way.
func TestMutualTLSWithOpenSSL(t *testing.T) {
	c := makeCerts(t)
	sockit := testenv.Binary(t)
	openssl := testenv.Peer(t, "openssl")

	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	pr, pw, _ := os.Pipe()
	defer pw.Close()
	srv := testenv.Start(t, pr, openssl, "s_server", "-accept", "127.0.0.1:"+port, "-cert", c.srv, "-key", c.srvKey,
		"-Verify", "1", "-verify_return_error", "-CAfile", c.ca, "-alpn", "sockit/1", "-naccept", "1")
	pr.Close()
	waitTCP(t, "127.0.0.1:"+port)
	pw.Write([]byte("hello client\n"))
	p := testenv.Start(t, strings.NewReader("hello server\n"), sockit, "-v", "--ssl-trustfile", c.ca,
		"--ssl-cert", c.cli, "--ssl-key", c.cliKey, "--ssl-alpn", "sockit/1", "localhost", port)
	// sockit's close_notify (its stdin ends at once) ends s_server's side:
	// closing s_server's stdin as well could make it close the socket
	// with that alert unread, which resets the connection.
	code := p.Wait(t)
	srv.Wait(t)
	pw.Close()
	if code != 0 || p.Stdout.String() != "hello client\n" || !strings.Contains(srv.Stdout.String(), "hello server") ||
		!strings.Contains(srv.Stdout.String(), "ALPN protocols advertised by the client: sockit/1") ||
		!strings.Contains(srv.Stdout.String()+srv.Stderr.String(), "CN = client") {
		t.Fatalf("sockit client → s_server -Verify: exit %d, sockit got %q, s_server said:\n%s\nsockit stderr: %s",
			code, p.Stdout.String(), srv.Stdout.String(), p.Stderr.String())
	}

	// Without a certificate, s_server -Verify turns sockit away.
	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv = testenv.Start(t, strings.NewReader(""), openssl, "s_server", "-accept", "127.0.0.1:"+port, "-cert", c.srv, "-key", c.srvKey,
		"-Verify", "1", "-verify_return_error", "-CAfile", c.ca, "-naccept", "1")
	waitTCP(t, "127.0.0.1:"+port)
	p = testenv.Start(t, strings.NewReader("hello\n"), sockit, "--ssl-trustfile", c.ca, "localhost", port)
	if code := p.Wait(t); code == 0 {
		t.Errorf("s_server -Verify served a client without a certificate")
	}
	srv.Wait(t)

	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	ss := testenv.Start(t, nil, sockit, "-v", "--ssl-cert", c.srv, "--ssl-key", c.srvKey, "--ssl-trustfile", c.ca,
		"--ssl-alpn", "sockit/1", "-lk", "127.0.0.1", port, "-e", "/bin/cat")
	ss.WaitListening(t)
	for _, withCert := range []bool{true, false} {
		in, inW := io.Pipe()
		args := []string{openssl, "s_client", "-quiet", "-no_ign_eof", "-CAfile", c.ca, "-alpn", "sockit/1", "-connect", "127.0.0.1:" + port}
		if withCert {
			args = append(args, "-cert", c.cli, "-key", c.cliKey)
		}
		cl := testenv.Start(t, in, args...)
		inW.Write([]byte("echo\n"))
		for i := 0; i < 300 && !strings.Contains(cl.Stdout.String(), "echo") && !cl.Exited(); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		inW.Close()
		cl.Wait(t)
		if got := cl.Stdout.String() == "echo\n"; got != withCert {
			t.Errorf("s_client with certificate %v: stdout %q, stderr %s", withCert, cl.Stdout.String(), cl.Stderr.String())
		}
	}
}

// TestNetcatTLS: OpenBSD nc's TLS letters, which Debian's build lacks,
// against sockit's TLS listener: -c verifies against -R's CA and the
// name (-e), -H pins the certificate, -T noverify opts out; without a
// trusted CA, or with another name, the connect fails.
func TestNetcatTLS(t *testing.T) {
	c := makeCerts(t)
	sockit := testenv.Binary(t)
	pemBytes, err := os.ReadFile(c.srv)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	sum := sha256.Sum256(block.Bytes)
	pin := "SHA256:" + hex.EncodeToString(sum[:])
	for _, tt := range []struct {
		name string
		argv []string
		ok   bool
	}{
		{"CA", []string{"-c", "-R", c.ca, "localhost"}, true},
		{"CA and name", []string{"-c", "-R", c.ca, "-e", "localhost", "127.0.0.1"}, true},
		{"pin", []string{"-c", "-H", pin, "127.0.0.1"}, true},
		{"noverify", []string{"-c", "-T", "noverify", "127.0.0.1"}, true},
		{"untrusted", []string{"-c", "localhost"}, false},
		{"other name", []string{"-c", "-R", c.ca, "-e", "example.org", "127.0.0.1"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			srv := testenv.Start(t, strings.NewReader("from server\n"), sockit, "-v", "--ssl-cert", c.srv, "--ssl-key", c.srvKey, "-l", "127.0.0.1", port)
			srv.WaitListening(t)
			cli := testenv.Start(t, strings.NewReader("from client\n"), append(append([]string{sockit, "nc", "-N"}, tt.argv...), port)...)
			code := cli.Wait(t)
			if tt.ok && (code != 0 || cli.Stdout.String() != "from server\n") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, cli.Stdout.String(), cli.Stderr.String())
			}
			if tt.ok {
				if srv.Wait(t); srv.Stdout.String() != "from client\n" {
					t.Errorf("server got %q", srv.Stdout.String())
				}
			}
			if !tt.ok && (code != 1 || cli.Stdout.Len() != 0 || !strings.Contains(cli.Stderr.String(), "certificate")) {
				t.Errorf("want a refused handshake: exit %d, stdout %q, stderr %q", code, cli.Stdout.String(), cli.Stderr.String())
			}
		})
	}
}

// TestTLSListenerWithEmptyStdin: a TLS listener whose stdin is already
// at EOF completes the handshake before its half-close, so the client's
// bytes still arrive (a bare *tls.Conn refused that CloseWrite and the
// client saw the connection dropped mid-handshake).
func TestTLSListenerWithEmptyStdin(t *testing.T) {
	sockit := testenv.Binary(t)
	for i := range 5 {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		srv := testenv.Start(t, strings.NewReader(""), sockit, "-v", "--ssl", "-l", "127.0.0.1", port)
		srv.WaitListening(t)
		cli := testenv.Start(t, strings.NewReader("hello\n"), sockit, "--ssl-insecure", "127.0.0.1", port)
		if code := cli.Wait(t); code != 0 {
			t.Fatalf("run %d: client exit %d: %s", i, code, cli.Stderr.String())
		}
		if code := srv.Wait(t); code != 0 || srv.Stdout.String() != "hello\n" {
			t.Fatalf("run %d: server exit %d, stdout %q: %s", i, code, srv.Stdout.String(), srv.Stderr.String())
		}
	}
}
