package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sockit/sockit/internal/testenv"
)

// TestOpenBSDProxyFailuresMatch: a proxy that refuses, or cannot be
// reached, reads the same under nc.openbsd and under sockit's link of
// that name: nc's own words for an HTTP status, a SOCKS reply code and
// a proxy that is down, with and without -v.
func TestOpenBSDProxyFailuresMatch(t *testing.T) {
	links := ncLinks(t)["nc.openbsd"]
	ncat := testenv.Peer(t, "ncat")
	dante, socks5, _, http := startProxies(t)
	authed := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, ncat, "-v", "-l", "-k", "--proxy-type", "http", "--proxy-auth", "bob:pw", "127.0.0.1", authed).WaitListening(t)
	closed := testenv.FreePort(t, "tcp4", "127.0.0.1")
	tests := []struct {
		name string
		argv []string
	}{
		{"http 407 without -P", []string{"-X", "connect", "-x", "127.0.0.1:" + authed}},
		{"http target refused", []string{"-X", "connect", "-x", "127.0.0.1:" + http}},
		{"http proxy down", []string{"-X", "connect", "-x", "127.0.0.1:" + closed}},
		{"http proxy down -v", []string{"-v", "-X", "connect", "-x", "127.0.0.1:" + closed}},
		{"socks5 target refused", []string{"-X", "5", "-x", "127.0.0.1:" + socks5}},
		{"socks5 proxy down -v", []string{"-v", "-x", "127.0.0.1:" + closed}},
		{"socks4 target refused", []string{"-X", "4", "-x", "127.0.0.1:" + dante}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]ncOutcome
			for i, bin := range []string{links[1], links[0]} {
				p := testenv.Start(t, strings.NewReader(""), append(append([]string{bin}, tt.argv...), "127.0.0.1", closed)...)
				got[i] = ncOutcome{code: p.Wait(t), stderr: p.Stderr.String()}.normal(bin)
			}
			if got[0] != got[1] {
				t.Errorf("nc.openbsd: exit %d, %q\nsockit:     exit %d, %q", got[0].code, got[0].stderr, got[1].code, got[1].stderr)
			}
		})
	}
}

// TestOpenBSDProxyPassword: -P asks for the proxy's password on the
// terminal, without echo, only when the proxy wants one, and again when
// it refuses it, up to nc's three times. The terminal shows the same
// under nc.openbsd and under sockit's link, and the session goes
// through with the right password.
func TestOpenBSDProxyPassword(t *testing.T) {
	links := ncLinks(t)["nc.openbsd"]
	ncat := testenv.Peer(t, "ncat")
	proxy := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, ncat, "-v", "-l", "-k", "--proxy-type", "http", "--proxy-auth", "bob:s3cret", "127.0.0.1", proxy).WaitListening(t)
	target := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, ncat, "-v", "-l", "-k", "-c", "echo ready; exec cat", "127.0.0.1", target).WaitListening(t)
	tests := []struct {
		name      string
		passwords []string
		session   bool // type a line once connected, and end with ^D
	}{
		{"right password", []string{"s3cret"}, true},
		{"wrong three times", []string{"nope", "nope2", "nope3"}, false},
		{"wrong, then right", []string{"nope", "s3cret"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var screen [2]string
			var code [2]int
			for i, bin := range []string{links[1], links[0]} {
				screen[i], code[i] = onTerminal(t, tt.passwords, tt.session,
					bin, "-N", "-P", "bob", "-X", "connect", "-x", "127.0.0.1:"+proxy, "127.0.0.1", target)
				screen[i] = strings.ReplaceAll(screen[i], bin, "nc")
				for _, pw := range tt.passwords {
					if strings.Contains(screen[i], pw) {
						t.Errorf("%s echoed the password %q:\n%s", bin, pw, screen[i])
					}
				}
			}
			if screen[0] != screen[1] || code[0] != code[1] {
				t.Errorf("nc.openbsd: exit %d\n%s\nsockit: exit %d\n%s", code[0], screen[0], code[1], screen[1])
			}
			if tt.session && (code[1] != 0 || strings.Count(screen[1], "hello") != 2) {
				t.Errorf("no session through the proxy: exit %d\n%s", code[1], screen[1])
			}
		})
	}
}

// onTerminal runs argv on a pseudo-terminal, answers each password
// prompt with the next of passwords, and, when session is set, waits
// for the target's "ready", types a line, waits for it to come back and
// types ^D. It returns what the terminal showed and the exit code.
func onTerminal(t *testing.T, passwords []string, session bool, argv ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	shown := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }
	// await waits until the screen shows want count times, or the
	// process ends; a test that fails here fails on the comparison.
	await := func(want string, count int) {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if strings.Count(shown(), want) >= count {
				return
			}
			select {
			case <-read:
				return
			default:
			}
		}
	}
	for i, pw := range passwords {
		await("password for", i+1) // echo is off once the prompt shows
		io.WriteString(tty, pw+"\n")
	}
	if session {
		await("ready", 1)
		io.WriteString(tty, "hello\n")
		await("hello", 2)
		io.WriteString(tty, "\x04")
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Errorf("%v did not end; the terminal shows:\n%s", argv, shown())
	}
	tty.Close()
	<-read
	return shown(), cmd.ProcessState.ExitCode()
}
