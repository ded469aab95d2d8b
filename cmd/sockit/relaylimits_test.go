package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// fdCount is how many descriptors process pid holds.
func fdCount(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// rssKiB is process pid's resident set, in KiB.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb
		}
	}
	return 0
}

// TestRelayHoldsManySessions opens 9,000 sessions through one relay
// process under a 20,000-descriptor limit, moves a message each way
// through every one, and counts the relay's descriptors: two per live
// session (its splice pipes are lent only while bytes are in flight),
// and back to the start once the sessions end.
func TestRelayHoldsManySessions(t *testing.T) {
	if testing.Short() {
		t.Skip("9,000 sessions")
	}
	const n = 9000
	prlimit := testenv.Peer(t, "prlimit")
	up, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	var mu sync.Mutex
	var served []net.Conn // no goroutine per conn: the race detector allows 8,128
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			served = append(served, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range served {
			c.Close()
		}
		mu.Unlock()
	}()
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	relay := testenv.Start(t, nil, prlimit, "--nofile=20000", testenv.Binary(t), "relay",
		"TCP-LISTEN:"+port+",bind=127.0.0.1,fork,reuseaddr,max-children=20000,backlog=4096", "TCP:"+up.Addr().String())
	waitTCP(t, "127.0.0.1:"+port)
	pid := relay.Cmd.Process.Pid
	base, baseRSS := fdCount(t, pid), rssKiB(t, pid)

	clients := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("client %d: %v", len(clients), err)
		}
		clients = append(clients, c)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(120 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s in 120 s; the relay holds %d descriptors\n%s", what, fdCount(t, pid), relay.Stderr.String())
			}
		}
	}
	waitFor("9,000 upstream connections", func() bool { mu.Lock(); defer mu.Unlock(); return len(served) == n })

	// Upstream to client: every client hears exactly one of the messages.
	for i, c := range served {
		fmt.Fprintf(c, "down %d\n", i)
	}
	heard := map[string]bool{}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || heard[line] {
			t.Fatalf("client %d read %q (%v)", i, line, err)
		}
		heard[line] = true
	}
	// Client to upstream.
	for i, c := range clients {
		fmt.Fprintf(c, "up %d\n", i)
	}
	for i, c := range served {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			t.Fatalf("upstream %d: %v", i, err)
		}
	}
	// Idle now: two descriptors per session, and at most a loop's pool
	// of empty pipes (freePipes, 32, two descriptors each) besides.
	live := fdCount(t, pid)
	if live < base+2*n || live > base+2*n+2*32+8 {
		t.Errorf("the relay holds %d descriptors for %d idle sessions, %d before: want two per session", live, n, base)
	}
	t.Logf("relay descriptors: %d before, %d with %d idle sessions; RSS %d KiB before, %d KiB with them",
		base, live, n, baseRSS, rssKiB(t, pid))

	// Both ends close (the relay waits for both directions, as it should).
	for _, c := range clients {
		c.Close()
	}
	clients = nil
	mu.Lock()
	for _, c := range served {
		c.Close()
	}
	served = nil
	mu.Unlock()
	waitFor("descriptors given back", func() bool { return fdCount(t, pid) <= base })
}
