package main

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// readLines reads what c says for d and returns it as lines.
func readLines(c net.Conn, d time.Duration) []string {
	c.SetReadDeadline(time.Now().Add(d))
	var out []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// waitLine reads from c until a line equal to want comes (10 s at most)
// and returns every line read.
func waitLine(t *testing.T, c net.Conn, want string) []string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	sc := bufio.NewScanner(c)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
		if sc.Text() == want {
			return got
		}
	}
	t.Fatalf("never heard %q; heard %q", want, got)
	return nil
}

// TestFederatedChat runs Debian's nats-server and two `sockit --chat
// --federate` processes: one room, with node-qualified ids, across them;
// with the bus gone, each goes on as a local room.
func TestFederatedChat(t *testing.T) {
	natsBin := testenv.Peer(t, "nats-server")
	natsPort := testenv.FreePort(t, "tcp4", "127.0.0.1")
	ns := testenv.Start(t, nil, natsBin, "-a", "127.0.0.1", "-p", natsPort)
	waitTCP(t, "127.0.0.1:"+natsPort)
	url := "nats://127.0.0.1:" + natsPort
	var ports []string
	for _, node := range []string{"a", "b"} {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		p := testenv.Start(t, nil, testenv.Binary(t), "--chat", "-v", "-l", "127.0.0.1", port, "--federate", url,
			"--room", "e2e", "--federate-node", node)
		waitTCP(t, "127.0.0.1:"+port)
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(p.Stderr.String(), "Federating room e2e over "+url+" as node "+node) {
			if time.Now().After(deadline) {
				t.Fatalf("broker %s: %s", node, p.Stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		ports = append(ports, port)
	}
	a, err := net.Dial("tcp4", "127.0.0.1:"+ports[0])
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	waitLine(t, a, "<announce> already connected: nobody.")
	// b hears of a's member over the bus; until it has, a client of b
	// would be told nobody is there.
	var b net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		if b, err = net.Dial("tcp4", "127.0.0.1:"+ports[1]); err != nil {
			t.Fatal(err)
		}
		if notice := readLines(b, 300*time.Millisecond); strings.Contains(strings.Join(notice, "\n"), "already connected: 127.0.0.1 as <user4@a>.") {
			break
		}
		b.Close()
		if time.Now().After(deadline) {
			t.Fatal("b never listed a's member")
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer b.Close()
	waitLine(t, a, "<announce> 127.0.0.1 is connected as <user4@b>.")
	b.Write([]byte("hello a\n"))
	waitLine(t, a, "<user4@b> hello a")
	a.Write([]byte("hello b\n"))
	waitLine(t, b, "<user4@a> hello b")

	// The bus goes; a's room goes on with its own clients.
	ns.Cmd.Process.Kill()
	a2, err := net.Dial("tcp4", "127.0.0.1:"+ports[0])
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	waitLine(t, a2, "<announce> already connected: 127.0.0.1 as <user4@a>, 127.0.0.1 as <user4@b>.")
	a2.Write([]byte("still here\n"))
	waitLine(t, a, "<user5@a> still here")
	if got := readLines(b, 300*time.Millisecond); len(got) != 0 {
		t.Errorf("b heard %q with the bus down", got)
	}
}

// TestFederateFlags: the federation options need a room to federate and
// a URL; a bad one exits 2 with one line.
func TestFederateFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-l", "127.0.0.1", "9", "--federate", "nats://127.0.0.1:4222"},
		{"--broker", "-l", "127.0.0.1", "9", "--room", "x"},
	} {
		p := testenv.Start(t, nil, append([]string{testenv.Binary(t)}, args...)...)
		if code := p.Wait(t); code != 2 || strings.Count(p.Stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, %q", args, code, p.Stderr.String())
		}
	}
}
