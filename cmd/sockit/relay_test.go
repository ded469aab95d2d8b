package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// relayTools returns the commands to compare: Debian's socat, sockit
// relay, and sockit through a link named socat.
func relayTools(t *testing.T) map[string][]string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "socat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	return map[string][]string{
		"socat":        {testenv.Peer(t, "socat")},
		"sockit relay": {testenv.Binary(t), "relay"},
		"socat link":   {link},
	}
}

// TestRelayMatchesSocat runs one-shot relays that need no network through
// socat and through sockit, and compares stdout, the files they leave and
// the exit status.
func TestRelayMatchesSocat(t *testing.T) {
	tools := relayTools(t)
	tests := []struct {
		name  string
		args  []string // DIR is replaced by a fresh directory holding in.txt
		stdin string
		file  string // a file in DIR to compare afterwards
	}{
		{"exec", []string{"-", "EXEC:tr a-z A-Z"}, "hello relay\n", ""},
		{"exec nofork", []string{"-", "EXEC:tr a-z A-Z,nofork"}, "hello relay\n", ""},
		// nofork hands the child sockit's own stdin (here a pipe), not a socket pair.
		{"system nofork stdin", []string{"-", "SYSTEM:test -p /dev/stdin && echo pipe || echo other,nofork"}, "", ""},
		{"system", []string{"-", "SYSTEM:echo first; cat"}, "then this\n", ""},
		{"unnamed pipe echoes", []string{"-", "PIPE"}, "echo me\n", ""},
		{"exec on a pty", []string{"-", "EXEC:cat,pty,echo=0"}, "typed\n", ""},
		{"system on a pty", []string{"-", "SYSTEM:tty >/dev/null && echo on a tty,pty,echo=0"}, "", ""},
		{"stdin to create", []string{"-u", "STDIN", "CREATE:DIR/out.txt"}, "to a new file\n", "out.txt"},
		{"open to stdout", []string{"-u", "OPEN:DIR/in.txt", "STDOUT"}, "", ""},
		{"gopen appends", []string{"-u", "-", "GOPEN:DIR/in.txt"}, "appended\n", "in.txt"},
		{"exec to exec", []string{"-u", "EXEC:cat DIR/in.txt", "SYSTEM:tr a-z A-Z > DIR/up.txt"}, "", "up.txt"},
		{"unknown type", []string{"FROB:1", "-"}, "", ""},
		{"missing file", []string{"-u", "OPEN:DIR/none", "-"}, "", ""},
		{"one address", []string{"-"}, "", ""},
		{"bad option", []string{"TCP:127.0.0.1:1,nodelayy", "-"}, "", ""},
		// socat's address forms: the dual form, bare paths and numbers, aliases.
		{"dual stdio", []string{"-!!-", "PIPE"}, "through a dual address\n", ""},
		{"dual stdin!!stdout", []string{"stdin!!stdout", "pipe"}, "named halves\n", ""},
		{"dual 0!!1", []string{"0!!1", "echo"}, "numbered halves\n", ""},
		{"dual files", []string{"-", "OPEN:DIR/in.txt!!CREATE:DIR/out.txt"}, "into out.txt\n", "out.txt"},
		{"dual files -u", []string{"-u", "OPEN:DIR/in.txt!!CREATE:DIR/x.txt", "STDOUT"}, "", ""},
		{"bare path is gopen", []string{"-u", "DIR/in.txt", "-"}, "", ""},
		{"bare path with option", []string{"-u", "-", "DIR/new.txt,o-creat"}, "made by gopen\n", "new.txt"},
		{"bare number is fd", []string{"-u", "0", "1"}, "fd to fd\n", ""},
		{"fd: type", []string{"-u", "fd:0", "FD:1"}, "fd type\n", ""},
		{"aliases", []string{"-u", "open:DIR/in.txt", "stdout"}, "", ""},
		{"creat alias", []string{"-u", "-", "creat:DIR/c.txt"}, "creat\n", "c.txt"},
		{"quoted comma in a path", []string{"-u", "-", `CREATE:DIR/"o,ut".txt`}, "quoted\n", "o,ut.txt"},
		{"escaped comma in a path", []string{"-u", "-", `CREATE:DIR/e\,sc.txt`}, "escaped\n", "e,sc.txt"},
		{"nested quoting in exec", []string{"-u", `exec:'echo (,)[,]{,}","([),])hugo'`, "-"}, "", ""},
		{"exec words in quotes", []string{"-u", `exec:"sh -c 'echo a  b'"`, "-"}, "", ""},
		{"unclosed quote", []string{"-u", `CREATE:"DIR/x`, "-"}, "", ""},
		{"wrong parameter count", []string{"-u", "-", "tcp:1"}, "", ""},
		{"option outside its groups", []string{"-u", "OPEN:DIR/in.txt,fork", "-"}, "", ""},
		{"three addresses", []string{"-", "-", "-"}, "", ""},
		{"escape ends the input", []string{"-u", "-,escape=3", "-"}, "before\x03after", ""},
		{"readbytes", []string{"-u", "-,readbytes=5", "-"}, "0123456789", ""},
		{"accept-timeout", []string{"TCP4-LISTEN:0,bind=127.0.0.1,accept-timeout=0.2", "-"}, "", ""},
		{"cr", []string{"-u", "-", "-,cr"}, "a\nb\n", ""},
		{"perm-late on an existing file", []string{"-u", "-", "OPEN:DIR/in.txt,o-trunc,perm-late=0600"}, "new\n", "in.txt"},
		// Terminal options, read back by stty on the child's pty (shut-none:
		// sockit relay would type ^D at the end of stdin, while stty runs).
		// socat's csize has no effect, so it is not compared.
		{"termios raw", []string{"exec:stty -a,pty,raw,echo=0,shut-none", "-"}, "", ""},
		{"termios cfmakeraw", []string{"exec:stty -a,pty,termios-cfmakeraw,shut-none", "-"}, "", ""},
		{"termios rawer", []string{"exec:stty -a,pty,termios-rawer,shut-none", "-"}, "", ""},
		{"termios sane", []string{"exec:stty -a,pty,raw,sane,shut-none", "-"}, "", ""},
		{"termios flags", []string{"exec:stty -a,pty,b9600,cs7,parenb,parodd,cstopb,icanon=0,echoctl=0,onlcr=0,ixoff,shut-none", "-"}, "", ""},
		{"termios characters", []string{"exec:stty -a,pty,vintr=1,veof=2,vmin=3,vtime=4,verase=8,shut-none", "-"}, "", ""},
		{"termios speeds", []string{"exec:stty -a,pty,ispeed=13,ospeed=13,shut-none", "-"}, "", ""},
		{"termios fields", []string{"exec:stty -a,pty,crdly=1,tabdly=3,nl1,bs1,vt1,ff1,shut-none", "-"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			results := map[string]string{}
			for name, cmd := range tools {
				dir := t.TempDir()
				os.WriteFile(filepath.Join(dir, "in.txt"), []byte("file line one\nfile line two\n"), 0o644)
				argv := append([]string(nil), cmd...)
				for _, a := range tt.args {
					argv = append(argv, strings.ReplaceAll(a, "DIR", dir))
				}
				p := testenv.Start(t, strings.NewReader(tt.stdin), argv...)
				code := p.Wait(t)
				file := ""
				if tt.file != "" {
					b, _ := os.ReadFile(filepath.Join(dir, tt.file))
					file = string(b)
				}
				if name == "sockit relay" && code == 2 {
					code = 1 // bad input: sockit's usage exit, where socat has only 1
				}
				results[name] = fmt.Sprintf("exit %d, stdout %q, file %q", code, p.Stdout.String(), file)
				if code != 0 && name != "socat" {
					t.Logf("%s stderr: %s", name, p.Stderr.String())
				}
			}
			want := results["socat"]
			for name, got := range results {
				if got != want {
					t.Errorf("%s: %s\nsocat: %s", name, got, want)
				}
			}
		})
	}
}

// TestRelayErrorShape: invoked as socat, errors keep socat's log shape;
// as sockit relay, one line naming the token, with a suggestion.
func TestRelayErrorShape(t *testing.T) {
	tools := relayTools(t)
	p := testenv.Start(t, nil, append(tools["socat link"], "TCP-LISTN:1", "-")...)
	if code := p.Wait(t); code != 1 || !regexpMatch(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d socat\[\d+\] E unknown device/address "TCP-LISTN" \(did you mean TCP-LISTEN\?\)\n$`, p.Stderr.String()) {
		t.Errorf("socat link: exit %d, stderr %q", code, p.Stderr.String())
	}
	p = testenv.Start(t, nil, append(tools["sockit relay"], "TCP:127.0.0.1:1,nodelayy", "-")...)
	if code := p.Wait(t); code != 2 || p.Stderr.String() != `sockit relay: Address "TCP:127.0.0.1:1,nodelayy": unknown option "nodelayy" (did you mean nodelay?). QUITTING.`+"\n" {
		t.Errorf("sockit relay: exit %d, stderr %q", code, p.Stderr.String())
	}
}

// TestRelayVersionFeatures: -V lists socat's features in socat's order
// and #define shape, and claims only what sockit does: OPENSSL, PTY,
// SOCKS4 and PROXY work (earlier builds said #undef), SCTP and READLINE
// do not.
func TestRelayVersionFeatures(t *testing.T) {
	tools := relayTools(t)
	p := testenv.Start(t, nil, append(tools["socat link"], "-V")...)
	if code := p.Wait(t); code != 0 {
		t.Fatalf("-V: exit %d", code)
	}
	features := func(out string) []string {
		var names []string
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && (f[0] == "#define" || f[0] == "#undef") && strings.HasPrefix(f[1], "WITH_") && f[1] != "WITH_MSGLEVEL" {
				names = append(names, f[1])
			}
		}
		return names
	}
	out := p.Stdout.String()
	for _, want := range []string{"#define WITH_OPENSSL 1", "#define WITH_PTY 1", "#define WITH_SOCKS4 1", "#define WITH_PROXY 1",
		"#define WITH_FDNUM 1", "#define WITH_RAWIP 1", "#undef WITH_SCTP", "#undef WITH_READLINE"} {
		if !strings.Contains(out, "  "+want+"\n") {
			t.Errorf("-V lacks %q:\n%s", want, out)
		}
	}
	if path, err := exec.LookPath("socat"); err == nil {
		real, err := exec.Command(path, "-V").Output()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := features(out), features(string(real)); !slices.Equal(got, want) {
			t.Errorf("-V features %v, socat's %v", got, want)
		}
	}
}

// echoServer accepts connections and echoes each until its EOF, then
// half-closes; it returns its address.
func echoServer(t *testing.T, network, addr string) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				switch c := c.(type) {
				case *net.TCPConn:
					c.CloseWrite()
				case *net.UnixConn:
					c.CloseWrite()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends data through a conn to an echo and checks it comes back.
func roundTrip(network, addr string, data []byte) error {
	c, err := net.Dial(network, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	var got []byte
	var rerr error
	done := make(chan struct{})
	go func() { got, rerr = io.ReadAll(c); close(done) }()
	if _, err := c.Write(data); err != nil {
		return err
	}
	switch c := c.(type) {
	case *net.TCPConn:
		c.CloseWrite()
	case *net.UnixConn:
		c.CloseWrite()
	}
	<-done
	if rerr != nil {
		return rerr
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("got %d bytes back of %d (sha %x vs %x)", len(got), len(data), sha256.Sum256(got), sha256.Sum256(data))
	}
	return nil
}

// TestRelayLarge: 64 MiB each way at once through a relay, TCP↔TCP,
// TCP↔Unix, Unix↔TCP and TCP↔EXEC, byte-exact, with half-close carried.
func TestRelayLarge(t *testing.T) {
	sockit := testenv.Binary(t)
	data := make([]byte, 64<<20)
	rand.Read(data)
	dir := t.TempDir()
	tcpEcho := echoServer(t, "tcp4", "127.0.0.1:0")
	unixEcho := echoServer(t, "unix", filepath.Join(dir, "echo.sock"))
	cases := []struct {
		name           string
		listen, target string
		network, addr  string // where the test connects
	}{
		{"tcp-tcp", "TCP4-LISTEN:PORT,bind=127.0.0.1", "TCP:" + tcpEcho, "tcp4", "127.0.0.1:PORT"},
		{"tcp-unix", "TCP4-LISTEN:PORT,bind=127.0.0.1", "UNIX-CONNECT:" + unixEcho, "tcp4", "127.0.0.1:PORT"},
		{"unix-tcp", "UNIX-LISTEN:" + filepath.Join(dir, "r.sock"), "TCP:" + tcpEcho, "unix", filepath.Join(dir, "r.sock")},
		{"tcp-exec", "TCP4-LISTEN:PORT,bind=127.0.0.1", "EXEC:cat", "tcp4", "127.0.0.1:PORT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			listen := strings.ReplaceAll(tc.listen, "PORT", port)
			p := testenv.Start(t, nil, sockit, "relay", "-dd", listen, tc.target)
			waitRelay(t, p)
			if err := roundTrip(tc.network, strings.ReplaceAll(tc.addr, "PORT", port), data); err != nil {
				t.Fatal(err)
			}
			if code := p.Wait(t); code != 0 {
				t.Errorf("relay exit %d: %s", code, p.Stderr.String())
			}
		})
	}
}

// waitRelay waits for a relay started with -dd to say it listens.
func waitRelay(t *testing.T, p *testenv.Proc) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if strings.Contains(p.Stderr.String(), "listening on") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("relay did not listen: %s", p.Stderr.String())
}

// TestRelayFork: a forking relay serves 1,000 sequential and 200
// concurrent connections, to a TCP echo and to a child per connection,
// and ends with the descriptors it started with and no children.
func TestRelayFork(t *testing.T) {
	sockit := testenv.Binary(t)
	tcpEcho := echoServer(t, "tcp4", "127.0.0.1:0")
	for _, target := range []string{"TCP:" + tcpEcho, "EXEC:cat"} {
		t.Run(strings.Split(target, ":")[0], func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			p := testenv.Start(t, nil, sockit, "relay", "-dd", "TCP4-LISTEN:"+port+",bind=127.0.0.1,fork,max-children=50", target)
			waitRelay(t, p)
			pid := p.Cmd.Process.Pid
			start := testenv.FDKinds(t, pid)
			addr := "127.0.0.1:" + port
			for i := 0; i < 1000; i++ {
				if err := roundTrip("tcp4", addr, []byte(fmt.Sprintf("sequential %d\n", i))); err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 200)
			for i := 0; i < 200; i++ {
				wg.Go(func() {
					if err := roundTrip("tcp4", addr, []byte(fmt.Sprintf("concurrent %d\n", i))); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			// Sockets and other descriptors return to their start. Pipes
			// may stay in Go's splice pipe pool until a GC: their number
			// follows how many connections ran at once (max-children=50,
			// four pipe ends each), not how many came and went (1,200).
			var fds map[string]int
			var kids []string
			for i := 0; i < 500; i++ {
				fds, kids = testenv.FDKinds(t, pid), testenv.Children(t, pid)
				if fds["socket"] == start["socket"] && fds["other"] == start["other"] && len(kids) == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if fds["socket"] != start["socket"] || fds["other"] != start["other"] || fds["pipe"] > start["pipe"]+8*50 || len(kids) != 0 {
				t.Errorf("after 1,200 connections: fds %v (started with %v), children %v", fds, start, kids)
			}
			t.Logf("fds at start %v, after 1,200 connections %v", start, fds)
		})
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestRelayNetMatchesSocat: a server relay (LISTEN → EXEC:tr) and a client
// relay (STDIO → CONNECT) over each socket family, with every pairing of
// socat and sockit as server and client; the client's stdout and both exit
// statuses must match the all-socat run.
func TestRelayNetMatchesSocat(t *testing.T) {
	tools := relayTools(t)
	socat, sockit := tools["socat"], tools["sockit relay"]
	dir := t.TempDir()
	c := makeCerts(t)
	families := []struct {
		name           string
		listen, client func(port string) string
		target         string   // the server's second address
		flags          []string // the server's global options
	}{
		{"openssl", func(p string) string {
			return "OPENSSL-LISTEN:" + p + ",bind=127.0.0.1,reuseaddr,verify=0,cert=" + c.srv + ",key=" + c.srvKey
		}, func(p string) string { return "OPENSSL:localhost:" + p + ",cafile=" + c.ca }, "", nil},
		// UDP has no end of stream that socat sends, so the server ends
		// after a second without data (-T 1), and cat answers at once.
		{"udp4", func(p string) string { return "UDP4-LISTEN:" + p + ",bind=127.0.0.1" },
			func(p string) string { return "UDP4:127.0.0.1:" + p }, "EXEC:cat", []string{"-T", "1"}},
		{"tcp4", func(p string) string { return "TCP4-LISTEN:" + p + ",bind=127.0.0.1,reuseaddr" },
			func(p string) string { return "TCP4:127.0.0.1:" + p }, "", nil},
		{"tcp6", func(p string) string { return "TCP6-LISTEN:" + p + ",bind=[::1],reuseaddr" },
			func(p string) string { return "TCP6:[::1]:" + p }, "", nil},
		{"unix", func(p string) string { return "UNIX-LISTEN:" + filepath.Join(dir, p) },
			func(p string) string { return "UNIX-CONNECT:" + filepath.Join(dir, p) }, "", nil},
		{"abstract", func(p string) string { return "ABSTRACT-LISTEN:sockit-relay-" + p },
			func(p string) string { return "ABSTRACT-CONNECT:sockit-relay-" + p }, "", nil},
	}
	for _, fam := range families {
		t.Run(fam.name, func(t *testing.T) {
			results := map[string]string{}
			for _, pair := range []struct {
				name           string
				server, client []string
			}{
				{"socat-socat", socat, socat},
				{"sockit-sockit", sockit, sockit},
				{"socat-server-sockit-client", socat, sockit},
				{"sockit-server-socat-client", sockit, socat},
			} {
				port := testenv.FreePort(t, "tcp4", "127.0.0.1")
				target := fam.target
				if target == "" {
					target = "EXEC:tr a-z A-Z"
				}
				args := append(append(append([]string(nil), pair.server...), "-d", "-d"), fam.flags...)
				srv := testenv.Start(t, nil, append(args, fam.listen(port), target)...)
				for i := 0; i < 500 && !strings.Contains(srv.Stderr.String(), "listening on"); i++ {
					time.Sleep(10 * time.Millisecond)
				}
				cli := testenv.Start(t, strings.NewReader("hello over "+fam.name+"\n"),
					append(append([]string(nil), pair.client...), "-", fam.client(port))...)
				cc := cli.Wait(t)
				sc := srv.Wait(t)
				results[pair.name] = fmt.Sprintf("client exit %d stdout %q, server exit %d", cc, cli.Stdout.String(), sc)
				if cc != 0 || sc != 0 {
					t.Logf("%s: client stderr %s\nserver stderr %s", pair.name, cli.Stderr.String(), srv.Stderr.String())
				}
			}
			want := results["socat-socat"]
			if !strings.Contains(strings.ToUpper(want), "HELLO OVER") {
				t.Fatalf("socat itself did not complete: %s", want)
			}
			for name, got := range results {
				if got != want {
					t.Errorf("%s: %s\nsocat-socat: %s", name, got, want)
				}
			}
		})
	}
}

// TestRelayListenToPTY: a forking listener in front of a command on a
// terminal: the child sees a tty even though the other side is a socket
// (which would otherwise go to the child as is). Same as socat.
func TestRelayListenToPTY(t *testing.T) {
	tools := relayTools(t)
	results := map[string]string{}
	for _, name := range []string{"socat", "sockit relay"} {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		srv := testenv.Start(t, nil, append(append([]string(nil), tools[name]...), "-d", "-d",
			"TCP4-LISTEN:"+port+",bind=127.0.0.1,reuseaddr", "SYSTEM:tty >/dev/null && echo on a tty,pty,echo=0")...)
		for i := 0; i < 500 && !strings.Contains(srv.Stderr.String(), "listening on"); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		out, code := converse(t, "on a tty", tools["sockit relay"][0], "127.0.0.1", port)
		srv.Wait(t)
		results[name] = fmt.Sprintf("exit %d, %q", code, out)
	}
	if results["sockit relay"] != results["socat"] || !strings.Contains(results["socat"], "on a tty") {
		t.Errorf("sockit: %s\nsocat:  %s", results["sockit relay"], results["socat"])
	}
}

// TestRelayForkOutOfDescriptors: a forking relay that runs out of
// descriptors keeps listening; the connections beyond its limit wait in
// the accept queue and are served once earlier sessions end.
func TestRelayForkOutOfDescriptors(t *testing.T) {
	prlimit := testenv.Peer(t, "prlimit")
	echo := echoServer(t, "tcp4", "127.0.0.1:0")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	p := testenv.Start(t, nil, prlimit, "--nofile=24:24", testenv.Binary(t), "relay", "-dd", "TCP4-LISTEN:"+port+",bind=127.0.0.1,fork", "TCP:"+echo)
	waitRelay(t, p)
	addr := "127.0.0.1:" + port
	var held []net.Conn
	for i := range 20 { // two descriptors a session: more than 24 allows
		c, err := net.Dial("tcp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "held %d\n", i)
		held = append(held, c)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.Stderr.String(), "waiting for a session to end"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the relay never ran out of descriptors:\n%s", p.Stderr.String())
		}
	}
	for _, c := range held {
		c.Close()
	}
	// The held sessions end one by one; until they have, a new session may
	// still find no descriptor for its dial and be closed. It must get
	// through once they have.
	var err error
	for range 100 {
		if err = roundTrip("tcp4", addr, []byte("after the shortage\n")); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the sessions ended: %v\n%s", err, p.Stderr.String())
	}
	if p.Exited() {
		t.Fatalf("the relay exited:\n%s", p.Stderr.String())
	}
}

// TestRelayTellsPath: at -d -d -d each session says how its bytes went:
// the loop for two sockets, a goroutine each way for a PIPE, user space
// when -v must see them.
func TestRelayTellsPath(t *testing.T) {
	sockit := testenv.Binary(t)
	tcpEcho := echoServer(t, "tcp4", "127.0.0.1:0")
	for _, tt := range []struct {
		flags  []string
		target string
		want   string
	}{
		{nil, "TCP:" + tcpEcho, "the relay's epoll loop"},
		{nil, "PIPE", "the session's goroutine, echoing"},
		{[]string{"-v"}, "TCP:" + tcpEcho, "a goroutine each way, through user space"},
	} {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		args := append(append([]string{sockit, "relay", "-d", "-d", "-d"}, tt.flags...), "TCP4-LISTEN:"+port+",bind=127.0.0.1,fork", tt.target)
		p := testenv.Start(t, nil, args...)
		waitRelay(t, p)
		if err := roundTrip("tcp4", "127.0.0.1:"+port, []byte("which way?\n")); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 500 && !strings.Contains(p.Stderr.String(), "went through"); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if got := p.Stderr.String(); !strings.Contains(got, "the session's bytes went through "+tt.want) {
			t.Errorf("%v %s: no path line with %q in\n%s", tt.flags, tt.target, tt.want, got)
		}
	}
}
