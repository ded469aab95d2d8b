package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// socatTools are the two commands a socat script may run: Debian's socat
// and sockit through its socat link.
func socatTools(t *testing.T) map[string][]string {
	tools := relayTools(t)
	delete(tools, "sockit relay")
	return tools
}

// waitBound waits until something is bound at a UDP or Unix address.
func waitBound(t *testing.T, network, addr string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if listening(network, addr) {
			return
		}
		if network == "unix" {
			if _, err := os.Stat(addr); err == nil {
				return
			}
		}
	}
	t.Fatalf("nothing bound at %s %s", network, addr)
}

// TestSocatDatagramsMatch: receiving datagram addresses read what peers
// send, skip empty datagrams as socat does, and end at -T; socat and the
// socat link print the same.
func TestSocatDatagramsMatch(t *testing.T) {
	tests := []struct {
		name    string
		addr    func(dir, port string) string
		network string
		target  func(dir, port string) string
	}{
		{"udp4-recv", func(_, p string) string { return "UDP4-RECV:" + p + ",bind=127.0.0.1" }, "udp",
			func(_, p string) string { return "127.0.0.1:" + p }},
		{"udp-recvfrom", func(_, p string) string { return "UDP-RECVFROM:" + p + ",bind=127.0.0.1" }, "udp",
			func(_, p string) string { return "127.0.0.1:" + p }},
		{"udp4-listen", func(_, p string) string { return "UDP4-LISTEN:" + p + ",bind=127.0.0.1" }, "udp",
			func(_, p string) string { return "127.0.0.1:" + p }},
		{"unix-recv", func(d, _ string) string { return "UNIX-RECV:" + d + "/r.sock" }, "unixgram",
			func(d, _ string) string { return d + "/r.sock" }},
		{"unix-recvfrom", func(d, _ string) string { return "UNIX-RECVFROM:" + d + "/f.sock" }, "unixgram",
			func(d, _ string) string { return d + "/f.sock" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := map[string]string{}
			for name, cmd := range socatTools(t) {
				dir := t.TempDir()
				port := testenv.FreePort(t, "udp4", "127.0.0.1")
				p := testenv.Start(t, nil, append(cmd, "-u", "-T", "1", tt.addr(dir, port), "-")...)
				target := tt.target(dir, port)
				if tt.network == "udp" {
					waitBound(t, "udp", target)
				} else {
					waitBound(t, "unix", target)
				}
				for _, msg := range []string{"one ", "", "two ", "three\n"} {
					c, err := net.Dial(tt.network, target)
					if tt.network == "unixgram" {
						c, err = net.DialUnix("unixgram", nil, &net.UnixAddr{Name: target, Net: "unixgram"})
					}
					if err != nil {
						t.Fatal(err)
					}
					c.Write([]byte(msg))
					c.Close()
					time.Sleep(20 * time.Millisecond) // datagrams from one peer in order; *-RECVFROM answers the first
					if strings.HasSuffix(tt.name, "recvfrom") || strings.HasSuffix(tt.name, "listen") {
						break // one peer: the others come from other ports
					}
				}
				code := p.Wait(t)
				out[name] = fmt.Sprintf("exit %d, stdout %q", code, p.Stdout.String())
			}
			if out["socat"] != out["socat link"] {
				t.Errorf("socat: %s\nsocat link: %s", out["socat"], out["socat link"])
			}
		})
	}
}

// TestSocatLogFlags: -lp, -lu and -lh shape each log line as socat's do.
func TestSocatLogFlags(t *testing.T) {
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(host, ".")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1") // nothing listens there
	line := regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} ` + regexp.QuoteMeta(host) + ` myrelay\[\d+\] [FEWNID] .*Connection refused`)
	for name, cmd := range socatTools(t) {
		p := testenv.Start(t, nil, append(cmd, "-lp", "myrelay", "-lu", "-lh", "-", "TCP4:127.0.0.1:"+port)...)
		code := p.Wait(t)
		found := false
		sc := bufio.NewScanner(strings.NewReader(p.Stderr.String()))
		for sc.Scan() {
			found = found || line.MatchString(sc.Text())
		}
		if code != 1 || !found {
			t.Errorf("%s: exit %d, stderr %q", name, code, p.Stderr.String())
		}
	}
}

// TestSocatRawDumps: -r and -R write each direction's bytes to a file.
func TestSocatRawDumps(t *testing.T) {
	out := map[string]string{}
	for name, cmd := range socatTools(t) {
		dir := t.TempDir()
		l2r, r2l := filepath.Join(dir, "l2r"), filepath.Join(dir, "r2l")
		p := testenv.Start(t, strings.NewReader("left to right\n"), append(cmd, "-r", l2r, "-R", r2l, "-", "SYSTEM:tr a-z A-Z")...)
		code := p.Wait(t)
		a, _ := os.ReadFile(l2r)
		b, _ := os.ReadFile(r2l)
		out[name] = fmt.Sprintf("exit %d, stdout %q, l2r %q, r2l %q", code, p.Stdout.String(), a, b)
	}
	if out["socat"] != out["socat link"] || !strings.Contains(out["socat"], `r2l "LEFT TO RIGHT\n"`) {
		t.Errorf("socat: %s\nsocat link: %s", out["socat"], out["socat link"])
	}
}

// TestSocatLocks: -L fails while the lock file exists; -W waits until it
// is gone, then holds it while it runs and removes it at the end.
func TestSocatLocks(t *testing.T) {
	for name, cmd := range socatTools(t) {
		dir := t.TempDir()
		lock := filepath.Join(dir, "lock")
		os.WriteFile(lock, []byte("someone\n"), 0o644)
		p := testenv.Start(t, strings.NewReader("x\n"), append(cmd, "-L", lock, "-", "-")...)
		if code := p.Wait(t); code != 1 {
			t.Errorf("%s -L on a held lock: exit %d, stderr %q", name, code, p.Stderr.String())
		}
		p = testenv.Start(t, strings.NewReader("waited\n"), append(cmd, "-W", lock, "-u", "-", "-")...)
		time.Sleep(300 * time.Millisecond)
		if p.Exited() {
			t.Errorf("%s -W did not wait for the lock: stderr %q", name, p.Stderr.String())
		}
		os.Remove(lock)
		if code := p.Wait(t); code != 0 || p.Stdout.String() != "waited\n" {
			t.Errorf("%s -W: exit %d, stdout %q, stderr %q", name, code, p.Stdout.String(), p.Stderr.String())
		}
		if _, err := os.Stat(lock); !os.IsNotExist(err) {
			t.Errorf("%s -W left the lock file behind", name)
		}
	}
}

// TestSocatFilan: -D prints socat's descriptor table before the transfer.
func TestSocatFilan(t *testing.T) {
	header := regexp.MustCompile(`(?m)^  FD  type\tdevice\tinode\tmode\tlinks\tuid\tgid\trdev\tsize\tblksize\tblocks\tatime`)
	row := regexp.MustCompile(`(?m)^ +0: (file|pipe|chrdev)\t\d+,\d+\t\d+\t0\d+\t`)
	for name, cmd := range socatTools(t) {
		p := testenv.Start(t, strings.NewReader("x"), append(cmd, "-D", "-u", "-", "-")...)
		if code := p.Wait(t); code != 0 || !header.MatchString(p.Stderr.String()) || !row.MatchString(p.Stderr.String()) {
			t.Errorf("%s -D: exit %d, stderr %q", name, code, p.Stderr.String())
		}
	}
}

// TestSocatHelpTables: every option line of the link's -hhh carries the
// groups, phase and type that socat's -hhh gives the same name, and every
// address head it lists is socat's.
func TestSocatHelpTables(t *testing.T) {
	lines := func(cmd []string) map[string]string {
		p := testenv.Start(t, nil, append(cmd, "-hhh")...)
		p.Wait(t)
		m := map[string]string{}
		for _, l := range strings.Split(p.Stdout.String(), "\n") {
			if f := strings.Split(strings.TrimSpace(l), "\t"); len(f) >= 2 && strings.HasPrefix(f[1], "groups=") {
				m[f[0]] = strings.Join(f[1:], "\t")
			}
		}
		return m
	}
	tools := socatTools(t)
	want, got := lines(tools["socat"]), lines(tools["socat link"])
	if len(got) < 300 {
		t.Fatalf("the link's -hhh lists %d options and types with groups", len(got))
	}
	for name, g := range got {
		if w, ok := want[name]; !ok || w != g {
			t.Errorf("%s: link says %q, socat %q", name, g, w)
		}
	}
}

// TestSocatGenericSocketsMatch: SOCKET-CONNECT, -LISTEN, -SENDTO and
// -DATAGRAM with AF_INET and AF_UNIX addresses written as raw bytes carry
// the same bytes through socat and the socat link.
func TestSocatGenericSocketsMatch(t *testing.T) {
	inet := func(port string) string {
		n, _ := strconv.Atoi(port)
		return fmt.Sprintf("x%04x x7f000001 x0000000000000000", n)
	}
	for name, cmd := range socatTools(t) {
		t.Run(name, func(t *testing.T) {
			// SOCKET-CONNECT to a TCP listener, and to a Unix one.
			ln, _ := net.Listen("tcp4", "127.0.0.1:0")
			defer ln.Close()
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			path := filepath.Join(t.TempDir(), "g.sock")
			uln, _ := net.Listen("unix", path)
			defer uln.Close()
			for _, tc := range []struct {
				ln   net.Listener
				addr string
			}{{ln, "SOCKET-CONNECT:2:6:" + inet(port)}, {uln, "SOCKET-CONNECT:1:0:x" + hex.EncodeToString([]byte(path)) + "00"}} {
				got := make(chan string, 1)
				go func() {
					c, err := tc.ln.Accept()
					if err != nil {
						got <- err.Error()
						return
					}
					b, _ := io.ReadAll(c)
					c.Close()
					got <- string(b)
				}()
				p := testenv.Start(t, strings.NewReader("generic connect\n"), append(cmd, "-u", "-", tc.addr)...)
				if code := p.Wait(t); code != 0 {
					t.Fatalf("%s: exit %d, %s", tc.addr, code, p.Stderr.String())
				}
				if s := <-got; s != "generic connect\n" {
					t.Errorf("%s: the listener read %q", tc.addr, s)
				}
			}
			// SOCKET-LISTEN: a TCP client sends.
			lport := testenv.FreePort(t, "tcp4", "127.0.0.1")
			p := testenv.Start(t, nil, append(cmd, "-u", "SOCKET-LISTEN:2:6:"+inet(lport)+",reuseaddr", "-")...)
			var c net.Conn
			for i := 0; i < 500; i++ {
				var err error
				if c, err = net.Dial("tcp4", "127.0.0.1:"+lport); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if c == nil {
				t.Fatal("SOCKET-LISTEN never listened")
			}
			c.Write([]byte("generic listen\n"))
			c.Close()
			if code := p.Wait(t); code != 0 || p.Stdout.String() != "generic listen\n" {
				t.Errorf("SOCKET-LISTEN: exit %d, stdout %q, stderr %q", code, p.Stdout.String(), p.Stderr.String())
			}
			// SOCKET-DATAGRAM to a UDP socket.
			pc, _ := net.ListenPacket("udp4", "127.0.0.1:0")
			defer pc.Close()
			_, uport, _ := net.SplitHostPort(pc.LocalAddr().String())
			p = testenv.Start(t, strings.NewReader("generic datagram\n"), append(cmd, "-u", "-", "SOCKET-DATAGRAM:2:2:17:"+inet(uport))...)
			p.Wait(t)
			buf := make([]byte, 100)
			pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, _, err := pc.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "generic datagram\n" {
				t.Errorf("SOCKET-DATAGRAM: %q, %v", buf[:n], err)
			}
		})
	}
}

// TestSocatInterfaceMatch: INTERFACE:lo (root) reads whole frames; a UDP
// datagram sent over loopback shows up in both socat's and the link's.
func TestSocatInterfaceMatch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("INTERFACE needs root")
	}
	port := testenv.FreePort(t, "udp4", "127.0.0.1")
	seen := map[string]int{}
	for name, cmd := range socatTools(t) {
		p := testenv.Start(t, nil, append(cmd, "-u", "-T", "1", "INTERFACE:lo", "-")...)
		marker := "frame-marker-" + name
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(p.Stdout.String(), marker) && time.Now().Before(deadline) {
			c, _ := net.Dial("udp4", "127.0.0.1:"+port)
			c.Write([]byte(marker))
			c.Close()
			time.Sleep(50 * time.Millisecond)
		}
		p.Wait(t)
		if strings.Contains(p.Stdout.String(), marker) {
			seen[name]++
		}
		if p.Stderr.Len() > 0 {
			t.Errorf("%s: stderr %q", name, p.Stderr.String())
		}
	}
	if seen["socat"] != 1 || seen["socat link"] != 1 {
		t.Errorf("the frame was seen: %v", seen)
	}
}

// TestSocatTUNMatch (root): TUN:addr/bits,iff-up makes an interface in a
// fresh network namespace (unshare -n, so nothing leaves the sandbox); a
// datagram routed into it comes out of the address as an IP packet, in
// socat and in the link. The clone device is a node made in a temporary
// directory (tun-device=), so /dev is left alone.
func TestSocatTUNMatch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("TUN needs root")
	}
	unshare := testenv.Peer(t, "unshare")
	dev := filepath.Join(t.TempDir(), "tun")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o600, 10<<8|200); err != nil {
		t.Skipf("no TUN device: %v", err)
	}
	socat := testenv.Peer(t, "socat")
	for name, cmd := range socatTools(t) {
		out := filepath.Join(t.TempDir(), "out")
		script := fmt.Sprintf(`%s -u -T 1 TUN:10.99.0.1/24,iff-up,iff-no-pi,tun-device=%s - > %s &
for i in $(seq 100); do ip -o link show up | grep -q tun0 && break; sleep 0.02; done
ip -o -4 addr show dev tun0
echo tun-marker | %s -u - UDP:10.99.0.2:9
wait`, strings.Join(cmd, " "), dev, out, socat)
		p := testenv.Start(t, nil, unshare, "-n", "sh", "-c", script)
		code := p.Wait(t)
		got, _ := os.ReadFile(out)
		if code != 0 || !strings.Contains(p.Stdout.String(), "inet 10.99.0.1/24") || !strings.Contains(string(got), "tun-marker") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q, packets %q", name, code, p.Stdout.String(), p.Stderr.String(), got)
		}
	}
}

// TestSocatVsockMatch: this kernel has AF_VSOCK but no transport to a
// virtual machine, so a VSOCK-CONNECT times out in socat and in the link
// alike (exit 1), and a VSOCK-LISTEN binds and waits.
func TestSocatVsockMatch(t *testing.T) {
	if _, err := os.Stat("/dev/vsock"); err != nil {
		t.Skip("no AF_VSOCK here")
	}
	port := 5590
	for name, cmd := range socatTools(t) {
		port++
		p := testenv.Start(t, nil, append(cmd, "-u", "-", "VSOCK-CONNECT:1:5599")...)
		if code := p.Wait(t); code != 1 || !strings.Contains(strings.ToLower(p.Stderr.String()), "timed out") {
			t.Errorf("%s VSOCK-CONNECT: exit %d, stderr %q", name, code, p.Stderr.String())
		}
		l := testenv.Start(t, nil, append(cmd, "-u", "VSOCK-LISTEN:"+strconv.Itoa(port), "-")...)
		time.Sleep(300 * time.Millisecond)
		if l.Exited() {
			t.Errorf("%s VSOCK-LISTEN exited: %q", name, l.Stderr.String())
		}
	}
}

// TestSocatResetIsWarning: a client that resets its connection after the
// echo ends the transfer as socat ends it: exit 0, nothing on stderr by
// default, a W line from -d -d on. Run against socat and the socat link,
// alone and with fork, in front of PIPE and of a TCP upstream.
func TestSocatResetIsWarning(t *testing.T) {
	upstream := echoServer(t, "tcp4", "127.0.0.1:0")
	for name, cmd := range socatTools(t) {
		for _, c := range []struct{ fork, other, debug string }{
			{"", "PIPE", ""}, {"", "TCP:" + upstream, ""}, {"", "PIPE", "-d -d"}, {",fork", "PIPE", ""},
		} {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			argv := append(append([]string{}, cmd...), strings.Fields(c.debug)...)
			argv = append(argv, "TCP4-LISTEN:"+port+",bind=127.0.0.1,reuseaddr"+c.fork, c.other)
			p := testenv.Start(t, nil, argv...)
			waitTCP(t, "127.0.0.1:"+port)
			conn, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			conn.Write([]byte("x"))
			if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
				t.Fatalf("%s %v: no echo: %v", name, argv, err)
			}
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
			if c.fork != "" {
				// The child's end is all there is to see: give it time, then
				// look at the parent's stderr.
				time.Sleep(300 * time.Millisecond)
				if s := p.Stderr.String(); s != "" {
					t.Errorf("%s %v: stderr %q", name, argv, s)
				}
				continue
			}
			code := p.Wait(t)
			stderr := p.Stderr.String()
			warned := strings.Contains(stderr, " W ") && strings.Contains(strings.ToLower(stderr), "reset")
			if code != 0 || (c.debug == "" && stderr != "") || (c.debug != "" && !warned) {
				t.Errorf("%s %v: exit %d, stderr %q", name, argv, code, stderr)
			}
		}
	}
}

// TestSocatVerboseForkMatch: -v under fork logs each session's bytes
// with offsets from 0, as each of socat's children counts its own, and
// the header's clock is socat's (the microseconds in nine digits).
func TestSocatVerboseForkMatch(t *testing.T) {
	header := regexp.MustCompile(`(?m)^([<>]) \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.000\d{6}  (length=\d+ from=\d+ to=\d+)$`)
	out := map[string]string{}
	for name, cmd := range socatTools(t) {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		p := testenv.Start(t, nil, append(cmd, "-v", "TCP-LISTEN:"+port+",bind=127.0.0.1,reuseaddr,fork", "PIPE")...)
		waitTCP(t, "127.0.0.1:"+port)
		for i := range 3 {
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			msg := fmt.Sprintf("client %d\n", i)
			c.Write([]byte(msg))
			c.(*net.TCPConn).CloseWrite()
			got, _ := io.ReadAll(c)
			c.Close()
			if string(got) != msg {
				t.Errorf("%s: client %d got %q", name, i, got)
			}
			// the session's log is written once its bytes are: wait for both lines
			for j := 0; j < 500 && strings.Count(p.Stderr.String(), "< ") <= i; j++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		p.Cmd.Process.Signal(syscall.SIGTERM)
		p.Wait(t)
		out[name] = header.ReplaceAllString(p.Stderr.String(), "$1 TIME  $2")
	}
	want := ""
	for i := range 3 {
		want += fmt.Sprintf("> TIME  length=9 from=0 to=8\nclient %d\n< TIME  length=9 from=0 to=8\nclient %d\n", i, i)
	}
	for name, got := range out {
		if got != want {
			t.Errorf("%s -v:\n%s\nwant\n%s", name, got, want)
		}
	}
}

// TestSocatVerboseDumpsMatch: -v, -x and -v -x write every byte value as
// socat 1.7.4 does (C escapes, dots, rows of 16 broken at newlines).
func TestSocatVerboseDumpsMatch(t *testing.T) {
	all := make([]byte, 0, 300)
	for i := range 256 {
		all = append(all, byte(i))
	}
	all = append(all, "a\\b\r\nno newline at the end"...)
	file := filepath.Join(t.TempDir(), "bytes")
	if err := os.WriteFile(file, all, 0o644); err != nil {
		t.Fatal(err)
	}
	clock := regexp.MustCompile(`\d\d:\d\d:\d\d\.\d{9}`)
	for _, flags := range [][]string{{"-v"}, {"-x"}, {"-v", "-x"}} {
		out := map[string]string{}
		for name, cmd := range socatTools(t) {
			p := testenv.Start(t, nil, append(append(cmd, flags...), "-u", "OPEN:"+file, "OPEN:/dev/null")...)
			code := p.Wait(t)
			out[name] = fmt.Sprintf("exit %d\n%s", code, clock.ReplaceAllString(p.Stderr.String(), "TIME"))
		}
		if out["socat"] != out["socat link"] {
			t.Errorf("%v:\nsocat:\n%s\nsocat link:\n%s", flags, out["socat"], out["socat link"])
		}
	}
}
