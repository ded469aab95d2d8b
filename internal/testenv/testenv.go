// Package testenv helps sockit's end-to-end tests: it builds the binary
// once per test process, finds free loopback ports, starts servers and
// waits until they listen, and looks up peer binaries (ncat) to compare.
package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/sockit once and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		dir, err := os.MkdirTemp("", "sockit-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sockit")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sockit")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build sockit: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// Peer returns the path of a peer binary such as "ncat", or skips the test.
func Peer(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; .ci/run installs it", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// FreePort returns a port that was free on host a moment ago. It picks
// below the kernel's ephemeral range (32768 and up by default), so the
// many client connections the tests make cannot land on it between now
// and the moment a server binds it.
func FreePort(t testing.TB, network, host string) string {
	t.Helper()
	for range 1000 {
		port := strconv.Itoa(20000 + rand.IntN(12000))
		addr := net.JoinHostPort(host, port)
		if strings.HasPrefix(network, "udp") {
			if c, err := net.ListenPacket(network, addr); err == nil {
				c.Close()
				return port
			}
			continue
		}
		if l, err := net.Listen(network, addr); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatalf("no free %s port on %s", network, host)
	return ""
}

// Proc is a started process with captured output.
type Proc struct {
	Cmd    *exec.Cmd
	Stdout SyncBuffer
	Stderr SyncBuffer
	done   chan struct{}
	err    error
}

// Start runs argv with stdin and returns at once. The process leads a
// process group of its own, and the test's cleanup kills that group, so
// whatever it forked (ncat forks per UDP peer) goes too.
func Start(t testing.TB, stdin io.Reader, argv ...string) *Proc {
	t.Helper()
	p := &Proc{Cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	ownGroup(p.Cmd)
	p.Cmd.WaitDelay = 5 * time.Second // a grandchild holding our pipes cannot hang Wait
	p.Cmd.Stdin = stdin
	p.Cmd.Stdout = &p.Stdout
	p.Cmd.Stderr = &p.Stderr
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	pid := p.Cmd.Process.Pid
	t.Cleanup(func() {
		killGroup(pid)
		<-p.done
	})
	return p
}

// WaitListening waits until the process's stderr says it listens (run it
// with -v), or fails the test after 10 s.
func (p *Proc) WaitListening(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(p.Stderr.String(), "Listening on") {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("server exited before listening: %v\n%s", p.err, p.Stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("server did not listen in time:\n%s", p.Stderr.String())
}

// Wait waits for the process (at most 30 s) and returns its exit code.
func (p *Proc) Wait(t testing.TB) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.Cmd.Process.Kill()
		<-p.done
		t.Fatalf("%v did not exit in 30 s; stderr:\n%s", p.Cmd.Args, p.Stderr.String())
	}
	return p.Cmd.ProcessState.ExitCode()
}

// SyncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Len returns the number of bytes written so far.
func (s *SyncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// Bytes returns a copy of what was written.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// String returns what was written.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// OpenFDs counts the open descriptors of process pid.
func OpenFDs(t testing.TB, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// OpenSockets counts the open socket descriptors of process pid: the
// ones a leak of connections shows in, unlike the files the Go runtime
// opens and closes on its own (cgroup limits, /dev/urandom).
func OpenSockets(t testing.TB, pid int) int {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// DescribeFDs lists what process pid's descriptors refer to, one
// "fd -> target" per line, for a failure message.
func DescribeFDs(pid int) string {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, _ := os.ReadDir(dir)
	var b strings.Builder
	for _, e := range ents {
		target, _ := os.Readlink(dir + "/" + e.Name())
		fmt.Fprintf(&b, "%s -> %s\n", e.Name(), target)
	}
	return b.String()
}

// Children lists the pids whose parent is pid, zombies included.
func Children(t testing.TB, pid int) []string {
	t.Helper()
	matches, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []string
	for _, m := range matches {
		f, err := os.Open(m)
		if err != nil {
			continue
		}
		br := bufio.NewReader(f)
		line, _ := br.ReadString(')')
		rest, _ := io.ReadAll(br)
		f.Close()
		fields := strings.Fields(string(rest))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			kids = append(kids, strings.TrimSpace(line)+" "+fields[0])
		}
	}
	return kids
}

// FDKinds counts pid's open descriptors by kind: "socket", "pipe" and
// "other". Go keeps a pool of pipes for splice(2) that the garbage
// collector frees later, so tests bound pipes rather than count them.
func FDKinds(t testing.TB, pid int) map[string]int {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		switch {
		case err != nil:
			// closed while we looked
		case strings.HasPrefix(target, "socket:"):
			kinds["socket"]++
		case strings.HasPrefix(target, "pipe:"):
			kinds["pipe"]++
		default:
			kinds["other"]++
		}
	}
	return kinds
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Upstream serves every connection on a loopback port until the test
// ends: it reads the client's stream to its end and answers with
// answer(what it read), then closes. It returns host:port.
func Upstream(t testing.TB, answer func([]byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
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
				b, _ := io.ReadAll(c)
				c.Write(answer(b))
			}()
		}
	}()
	return ln.Addr().String()
}
