package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// ncLinks makes links named like Debian's netcats to sockit, beside the
// real ones: personality name → {sockit's link, the real binary}.
func ncLinks(t *testing.T) map[string][2]string {
	t.Helper()
	dir := t.TempDir()
	out := map[string][2]string{}
	for _, name := range []string{"nc.openbsd", "nc.traditional"} {
		link := filepath.Join(dir, name)
		if err := os.Symlink(testenv.Binary(t), link); err != nil {
			t.Fatal(err)
		}
		out[name] = [2]string{link, testenv.Peer(t, name)}
	}
	return out
}

// ncOutcome is what one run of a netcat showed.
type ncOutcome struct {
	peer, stdout, stderr, dump string
	code                       int
}

var portNumbers = regexp.MustCompile(`\b[0-9]{4,5}\b`)

// normal hides what differs between two runs by nature: ephemeral port
// numbers, and the program's path.
func (o ncOutcome) normal(bin string) ncOutcome {
	o.stderr = strings.ReplaceAll(o.stderr, bin, "nc")
	o.stderr = strings.ReplaceAll(o.stderr, filepath.Base(bin), "nc")
	o.stderr = portNumbers.ReplaceAllString(o.stderr, "PORT")
	o.dump = portNumbers.ReplaceAllString(o.dump, "PORT")
	return o
}

// TestNetcatsMatchDebian runs each scenario through Debian's
// nc.openbsd and nc.traditional and through sockit's links of the same
// names, and compares the bytes the peer got, stdout, stderr (ports
// aside), the -o dump and the exit status.
func TestNetcatsMatchDebian(t *testing.T) {
	links := ncLinks(t)
	type scenario struct {
		name  string
		nc    string
		argv  []string // HOST/PORT/DUMP are replaced
		stdin string
		// peer: "server" (accepts, reads to EOF, answers, closes), "client"
		// (dials the listener, sends, half-closes, reads), "udp" (reads
		// datagrams for a moment), "none" (nothing listens).
		peer string
	}
	rows := []scenario{
		{"connect -v -N", "nc.openbsd", []string{"-v", "-N", "HOST", "PORT"}, "hello\n", "server"},
		{"connect -N -C", "nc.openbsd", []string{"-N", "-C", "HOST", "PORT"}, "a\nb\r\n", "server"},
		{"connect -q 0", "nc.openbsd", []string{"-q", "0", "HOST", "PORT"}, "q\n", "server"},
		{"connect -d", "nc.openbsd", []string{"-d", "HOST", "PORT"}, "never read\n", "server"},
		{"refused", "nc.openbsd", []string{"HOST", "PORT"}, "", "none"},
		{"refused -v", "nc.openbsd", []string{"-v", "HOST", "PORT"}, "", "none"},
		{"refused -v by name", "nc.openbsd", []string{"-v", "localhost", "PORT"}, "", "none"},
		{"listen -v", "nc.openbsd", []string{"-v", "-l", "HOST", "PORT"}, "", "client"},
		{"listen -n -v", "nc.openbsd", []string{"-n", "-v", "-l", "HOST", "PORT"}, "", "client"},
		{"listen -l -p", "nc.openbsd", []string{"-l", "-p", "PORT"}, "", "client"},
		{"scan -zv", "nc.openbsd", []string{"-z", "-v", "HOST", "PORT"}, "", "none"},
		{"scan -z open", "nc.openbsd", []string{"-z", "-v", "-n", "HOST", "PORT"}, "", "server"},
		{"udp -v", "nc.openbsd", []string{"-u", "-v", "-q", "0", "HOST", "PORT"}, "dgram\n", "udp"},
		{"udp -uz", "nc.openbsd", []string{"-u", "-z", "HOST", "PORT"}, "", "udp"},
		{"bad option", "nc.openbsd", []string{"-Y", "HOST", "PORT"}, "", "none"},
		{"missing port", "nc.openbsd", []string{"HOST"}, "", "none"},
		{"socks5 proxy", "nc.openbsd", []string{"-N", "-X", "5", "-x", "PROXY5", "HOST", "PORT"}, "via socks\n", "server"},
		{"http proxy", "nc.openbsd", []string{"-N", "-X", "connect", "-x", "PROXYHTTP", "HOST", "PORT"}, "via connect\n", "server"},
		{"unix missing", "nc.openbsd", []string{"-U", "/nonexistent/sock"}, "", "none"},

		{"connect -v -v -q 1", "nc.traditional", []string{"-v", "-v", "-q", "1", "HOST", "PORT"}, "hi there\n", "server"},
		{"connect -n -v", "nc.traditional", []string{"-n", "-v", "-q", "1", "HOST", "PORT"}, "x\n", "server"},
		{"refused", "nc.traditional", []string{"HOST", "PORT"}, "", "none"},
		{"refused -v", "nc.traditional", []string{"-v", "HOST", "PORT"}, "", "none"},
		{"listen -v -o", "nc.traditional", []string{"-v", "-l", "-p", "PORT", "-s", "HOST", "-o", "DUMP"}, "", "client"},
		{"listen -vv", "nc.traditional", []string{"-vv", "-l", "-p", "PORT", "-s", "HOST"}, "", "client"},
		{"listen -e -o", "nc.traditional", []string{"-l", "-p", "PORT", "-s", "HOST", "-e", "/bin/cat", "-o", "DUMP"}, "", "client"}, // nc execs the command: no dump
		{"scan -zvv", "nc.traditional", []string{"-z", "-vv", "HOST", "PORT"}, "", "none"},
		{"bad option", "nc.traditional", []string{"-Y", "HOST", "PORT"}, "", "none"},
		{"connect -o", "nc.traditional", []string{"-q", "1", "-o", "DUMP", "HOST", "PORT"}, "0123456789abcdef-and-more\x00\x01\n", "server"},
	}
	for _, sc := range rows {
		t.Run(sc.nc+" "+sc.name, func(t *testing.T) {
			var got [2]ncOutcome
			for i, bin := range links[sc.nc] {
				got[i] = runNetcat(t, bin, sc.argv, sc.stdin, sc.peer).normal(bin)
			}
			if got[0] != got[1] {
				t.Errorf("sockit as %s:\n  %+v\nDebian's:\n  %+v", sc.nc, got[0], got[1])
			}
		})
	}
}

// runNetcat runs one netcat against a peer of the given kind.
func runNetcat(t *testing.T, bin string, argv []string, stdin, peer string) ncOutcome {
	t.Helper()
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	dump := filepath.Join(t.TempDir(), "dump")
	args := []string{bin}
	proxies := map[string]string{}
	for _, a := range argv {
		for _, kind := range []string{"PROXY5", "PROXYHTTP"} {
			if a == kind {
				// sockit's own proxy server stands between the two.
				pport := testenv.FreePort(t, "tcp4", "127.0.0.1")
				typ := map[string]string{"PROXY5": "socks5", "PROXYHTTP": "http"}[kind]
				srv := testenv.Start(t, nil, testenv.Binary(t), "-v", "-l", "--proxy-type", typ, "127.0.0.1", pport)
				srv.WaitListening(t)
				proxies[kind] = "127.0.0.1:" + pport
			}
		}
	}
	for _, a := range argv {
		if p, ok := proxies[a]; ok {
			a = p
		}
		a = strings.NewReplacer("HOST", "127.0.0.1", "PORT", port, "DUMP", dump).Replace(a)
		args = append(args, a)
	}
	var out ncOutcome
	peerGot := make(chan string, 1)
	switch peer {
	case "server":
		ln, err := net.Listen("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				peerGot <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			b, _ := io.ReadAll(c)
			c.Write([]byte("answer\n"))
			peerGot <- string(b)
		}()
	case "udp":
		pc, err := net.ListenPacket("udp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go func() {
			var all []string
			buf := make([]byte, 2048)
			for {
				pc.SetReadDeadline(time.Now().Add(1500 * time.Millisecond)) // Debian's nc -u -v waits a second between its probes
				n, _, err := pc.ReadFrom(buf)
				if err != nil {
					break
				}
				all = append(all, string(buf[:n]))
			}
			peerGot <- strings.Join(all, "|")
		}()
	case "none":
		peerGot <- ""
	}
	var stdinR io.Reader = strings.NewReader(stdin)
	var stdinW *os.File
	if peer == "client" {
		// A listener's stdin stays open: the client's EOF alone must end it.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		stdinR, stdinW = r, w
		defer stdinW.Close()
	}
	p := testenv.Start(t, stdinR, args...)
	if peer == "client" {
		var c net.Conn
		var err error
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if c, err = net.Dial("tcp4", "127.0.0.1:"+port); err == nil {
				break
			}
		}
		if c == nil {
			t.Fatalf("%s never listened: %v\n%s", bin, err, p.Stderr.String())
		}
		c.Write([]byte("from the client\n"))
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		peerGot <- string(b)
	}
	out.code = p.Wait(t)
	out.peer = <-peerGot
	out.stdout, out.stderr = p.Stdout.String(), p.Stderr.String()
	if b, err := os.ReadFile(dump); err == nil {
		out.dump = string(b)
	}
	return out
}

// TestPersonalitySubcommands: "sockit nc ...", "sockit ncat ..." and the
// others run the personality with no link, and say the same as the link.
func TestPersonalitySubcommands(t *testing.T) {
	sockit := testenv.Binary(t)
	refused := testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, tt := range []struct {
		argv   []string
		code   int
		stderr string
	}{
		{[]string{"nc", "-v", "127.0.0.1", refused}, 1, "nc: connect to 127.0.0.1 port " + refused + " (tcp) failed: Connection refused\n"},
		{[]string{"nc.openbsd", "127.0.0.1", refused}, 1, ""},
		{[]string{"netcat", "-Y"}, 1, "netcat: invalid option -- 'Y'\n" + strings.SplitAfterN(ncUsage, "\n", 2)[0]},
		{[]string{"nc.traditional", "127.0.0.1", refused}, 1, "(UNKNOWN) [127.0.0.1] " + refused + " (?) : Connection refused\n"},
		{[]string{"ncat", "127.0.0.1", refused}, 1, "Ncat: Connection refused.\n"},
		{[]string{"nc", "--eof=bogus", "127.0.0.1", refused}, 1, "nc: invalid --eof \"bogus\": unknown \"bogus\"; want wait, remote, stdin or drain:DURATION\n"},
	} {
		t.Run(strings.Join(tt.argv, " "), func(t *testing.T) {
			p := testenv.Start(t, strings.NewReader(""), append([]string{sockit}, tt.argv...)...)
			code, stderr := p.Wait(t), p.Stderr.String()
			if code != tt.code || !strings.HasPrefix(stderr, tt.stderr) || (tt.stderr == "" && stderr != "") {
				t.Errorf("exit %d, stderr %q; want %d, %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

const ncUsage = "usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n"

// TestInstallLinks: install-links makes the four links, replaces links
// to sockit, and leaves any other file alone with an error.
func TestInstallLinks(t *testing.T) {
	sockit := testenv.Binary(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "nc"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, nil, sockit, "install-links", dir)
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Stderr.String(), "left alone, not links to sockit") {
		t.Errorf("over a script named nc: exit %d, stderr %q", code, p.Stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "nc")); string(b) != "#!/bin/sh\n" {
		t.Errorf("the script named nc was changed: %q", b)
	}
	os.Remove(filepath.Join(dir, "nc"))
	for range 2 { // the second run replaces its own links
		p := testenv.Start(t, nil, sockit, "install-links", dir)
		if code := p.Wait(t); code != 0 {
			t.Fatalf("exit %d: %s", code, p.Stderr.String())
		}
	}
	for _, name := range []string{"ncat", "nc", "netcat", "socat"} {
		link := filepath.Join(dir, name)
		p := testenv.Start(t, nil, link, "-h")
		p.Wait(t)
		out := p.Stdout.String() + p.Stderr.String()
		want := map[string]string{"ncat": "Usage: ncat", "nc": "OpenBSD netcat", "netcat": "OpenBSD netcat", "socat": "socat"}[name]
		if !strings.Contains(out, want) {
			t.Errorf("%s -h says %.200q, want %q", name, out, want)
		}
	}
}

// TestNetcatSocketOptions: nc's -T, -I, -O and -M reach the socket (seen
// by strace), as OpenBSD's do.
func TestNetcatSocketOptions(t *testing.T) {
	strace := testenv.Peer(t, "strace")
	refused := testenv.FreePort(t, "tcp4", "127.0.0.1")
	p := testenv.Start(t, strings.NewReader(""), strace, "-f", "-e", "trace=setsockopt", testenv.Binary(t),
		"nc", "-T", "lowdelay", "-I", "8192", "-O", "16384", "-M", "7", "127.0.0.1", refused)
	p.Wait(t)
	for _, want := range []string{"IP_TOS, [16]", "SO_RCVBUF, [8192]", "SO_SNDBUF, [16384]", "IP_TTL, [7]"} {
		if !strings.Contains(p.Stderr.String(), want) {
			t.Errorf("no setsockopt(%s) in:\n%s", want, p.Stderr.String())
		}
	}
}

// TestNetcatSeveralPorts: Debian's nc connects to each port it is given
// in turn, without -z too, as separate arguments or as a range: a session
// with each one that answers (stdin goes to the first), a line for each
// one that does not, and status 0 when one answered. sockit as nc.openbsd
// does the same.
func TestNetcatSeveralPorts(t *testing.T) {
	links := ncLinks(t)["nc.openbsd"]
	// Three consecutive ports, held until the run: the first stays closed.
	var lns []net.Listener
	for base := 20000 + os.Getpid()%20000; len(lns) < 3 && base < 65000; base += 3 {
		for _, l := range lns {
			l.Close()
		}
		lns = lns[:0]
		for i := 0; i < 3; i++ {
			l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				break
			}
			lns = append(lns, l)
		}
	}
	if len(lns) < 3 {
		t.Skip("no three consecutive free ports")
	}
	lns[0].Close()
	ports := make([]string, 3)
	for i, l := range lns {
		_, ports[i], _ = net.SplitHostPort(l.Addr().String())
	}
	for _, l := range lns[1:] {
		defer l.Close()
	}
	serve := func(l net.Listener, greeting string, got chan<- string) {
		c, err := l.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, greeting)
		b, _ := io.ReadAll(c)
		got <- string(b)
	}
	for _, form := range [][]string{ports, {ports[0] + "-" + ports[2]}} {
		t.Run(strings.Join(form, " "), func(t *testing.T) {
			var got [2]string
			for i, bin := range links {
				gotA, gotB := make(chan string, 1), make(chan string, 1)
				go serve(lns[1], "A\n", gotA)
				go serve(lns[2], "B\n", gotB)
				p := testenv.Start(t, strings.NewReader("q\n"), append([]string{bin, "-v", "-N", "127.0.0.1"}, form...)...)
				code := p.Wait(t)
				stderr := strings.ReplaceAll(p.Stderr.String(), filepath.Base(bin), "nc")
				got[i] = fmt.Sprintf("exit %d\nstdout %q\nstderr %q\nfirst got %q, second got %q", code, p.Stdout.String(), stderr, <-gotA, <-gotB)
			}
			if got[0] != got[1] {
				t.Errorf("sockit as nc.openbsd:\n%s\nDebian's:\n%s", got[0], got[1])
			}
		})
	}
	// None answering: each refused, status 1.
	var got [2]string
	for i, bin := range links {
		p := testenv.Start(t, strings.NewReader(""), bin, "-v", "127.0.0.1", ports[0], ports[0])
		code := p.Wait(t)
		got[i] = fmt.Sprintf("exit %d, stderr %q", code, strings.ReplaceAll(p.Stderr.String(), filepath.Base(bin), "nc"))
	}
	if got[0] != got[1] {
		t.Errorf("none answering: sockit %s; Debian %s", got[0], got[1])
	}
}
