package federation_test

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/sockit/sockit/federation"
	"github.com/sockit/sockit/hub"
	"github.com/sockit/sockit/stream"
)

// natsServer runs an embedded NATS server on loopback (port 0: any, or
// the one given, for a restart) and returns it.
func natsServer(t *testing.T, port int) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	return natsServerWith(t, &server.Options{Port: port})
}

// natsServerWith runs an embedded NATS server on loopback with opts.
func natsServerWith(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.NoLog, opts.NoSigs = "127.0.0.1", true, true
	if opts.Port == 0 {
		opts.Port = -1
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// broker is one broker: a hub on the bus, and a listener its clients
// dial.
type broker struct {
	hub  *hub.Hub
	room *federation.Room
	addr string
}

func startBroker(t *testing.T, url, node string, chat bool, beat time.Duration) *broker {
	t.Helper()
	room, err := federation.Dial(federation.Options{URL: url, Room: "test", Node: node, Heartbeat: beat})
	if err != nil {
		t.Fatal(err)
	}
	opt := hub.Options{Chat: chat, FirstID: 4, Forward: room.Forward}
	if chat {
		opt.Node, opt.Others, opt.Presence = node, room.Others, room.Presence
	}
	h := hub.New(opt)
	if err := room.Start(h, chat); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.Join(c.(stream.Conn), nil)
		}
	}()
	b := &broker{hub: h, room: room, addr: ln.Addr().String()}
	t.Cleanup(func() { ln.Close(); h.Close(); room.Close() })
	return b
}

// client is a connection to a broker, reading lines in the background.
type client struct {
	c     net.Conn
	mu    sync.Mutex
	lines []string
}

func dialClient(t *testing.T, b *broker) *client {
	t.Helper()
	c, err := net.Dial("tcp4", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{c: c}
	go func() {
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			cl.mu.Lock()
			cl.lines = append(cl.lines, sc.Text())
			cl.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close() })
	return cl
}

func (cl *client) got() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]string(nil), cl.lines...)
}

// waitFor polls until ok says yes or 10 s pass.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("waited 10 s for %s", what)
}

// settled waits until every broker has a subscription on the server:
// what is published before that is not heard.
func settled(t *testing.T, s *server.Server, brokers int) {
	// Count the room's own subscriptions: the server's total also holds
	// its internal ones, which let a restarted server look settled before
	// every broker had subscribed again (TestNATSRestart lost a line so).
	waitFor(t, "the brokers' subscriptions", func() bool {
		sz, err := s.Subsz(&server.SubszOptions{Subscriptions: true, Test: "sockit.room.test.msg"})
		return err == nil && sz.Total >= brokers
	})
}

// TestBrokersOneRoom: three brokers, two clients on each; every client
// sends 200 numbered lines at once. Every other client hears each
// sender's lines once, in order; no client hears its own.
func TestBrokersOneRoom(t *testing.T) {
	s := natsServer(t, 0)
	var brokers []*broker
	for _, n := range []string{"a", "b", "c"} {
		brokers = append(brokers, startBroker(t, s.ClientURL(), n, false, 0))
	}
	settled(t, s, 3)
	var clients []*client
	for _, b := range brokers {
		for range 2 {
			clients = append(clients, dialClient(t, b))
		}
	}
	waitFor(t, "six clients in the rooms", func() bool {
		n := 0
		for _, b := range brokers {
			n += b.hub.Len()
		}
		return n == 6
	})
	const each = 200
	var wg sync.WaitGroup
	for i, cl := range clients {
		wg.Go(func() {
			for k := range each {
				fmt.Fprintf(cl.c, "c%d %d\n", i, k)
			}
		})
	}
	wg.Wait()
	want := each * (len(clients) - 1)
	for i, cl := range clients {
		waitFor(t, fmt.Sprintf("client %d's %d lines", i, want), func() bool { return len(cl.got()) >= want })
	}
	time.Sleep(100 * time.Millisecond) // a duplicate would come now
	for i, cl := range clients {
		lines := cl.got()
		if len(lines) != want {
			t.Errorf("client %d heard %d lines, want %d", i, len(lines), want)
		}
		next := map[string]int{}
		for _, l := range lines {
			var from, k int
			if _, err := fmt.Sscanf(l, "c%d %d", &from, &k); err != nil {
				t.Fatalf("client %d heard %q", i, l)
			}
			if from == i {
				t.Fatalf("client %d heard its own line %q", i, l)
			}
			key := fmt.Sprint(from)
			if k != next[key] {
				t.Fatalf("client %d: from client %d, line %d came after line %d", i, from, k, next[key]-1)
			}
			next[key]++
		}
	}
	var sent, received int64
	for _, b := range brokers {
		st := b.room.Stats()
		if st.SendDropped != 0 || st.RecvDropped != 0 {
			t.Errorf("a broker dropped: %+v", st)
		}
		sent += st.Sent
		received += st.Received
	}
	if received != 2*sent { // each message published reaches the two other brokers
		t.Errorf("%d messages published, %d received", sent, received)
	}
}

// TestChatAcrossBrokers: ids carry the node, the join notice lists the
// members of other brokers, and joins, lines and leaves cross over.
func TestChatAcrossBrokers(t *testing.T) {
	s := natsServer(t, 0)
	a := startBroker(t, s.ClientURL(), "a", true, 100*time.Millisecond)
	b := startBroker(t, s.ClientURL(), "b", true, 100*time.Millisecond)
	settled(t, s, 2)
	ca := dialClient(t, a)
	waitFor(t, "a's member in b's view", func() bool { return len(b.room.Others()) == 1 })
	cb := dialClient(t, b)
	waitFor(t, "b's join notice", func() bool { return len(cb.got()) >= 2 })
	if got := cb.got()[:2]; got[0] != "<announce> 127.0.0.1 is connected as <user4@b>." ||
		got[1] != "<announce> already connected: 127.0.0.1 as <user4@a>." {
		t.Errorf("b's client was told %q", got)
	}
	waitFor(t, "a hearing of b's client", func() bool { return len(ca.got()) >= 3 })
	if got := ca.got()[2]; got != "<announce> 127.0.0.1 is connected as <user4@b>." {
		t.Errorf("a's client heard %q", got)
	}
	fmt.Fprintf(cb.c, "hello\n")
	waitFor(t, "the line", func() bool { return len(ca.got()) >= 4 })
	if got := ca.got()[3]; got != "<user4@b> hello" {
		t.Errorf("a's client heard %q", got)
	}
	cb.c.Close()
	waitFor(t, "the leave", func() bool { return len(ca.got()) >= 5 })
	if got := ca.got()[4]; got != "<announce> <user4@b> is disconnected." {
		t.Errorf("a's client heard %q", got)
	}
}

// TestBrokerGoesSilent: a broker that vanishes without a word (killed)
// has its members announced gone after three missed heartbeats.
func TestBrokerGoesSilent(t *testing.T) {
	s := natsServer(t, 0)
	a := startBroker(t, s.ClientURL(), "a", true, 100*time.Millisecond)
	// b is on the bus by hand, so that it can vanish without its goodbye.
	bRoom, err := federation.Dial(federation.Options{URL: s.ClientURL(), Room: "test", Node: "b", Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	bHub := hub.New(hub.Options{Chat: true, FirstID: 4, Node: "b", Forward: bRoom.Forward, Others: bRoom.Others, Presence: bRoom.Presence})
	if err := bRoom.Start(bHub, true); err != nil {
		t.Fatal(err)
	}
	ca := dialClient(t, a)
	p, q := net.Pipe()
	defer q.Close()
	bHub.Join(&stream.Pair{R: p, W: p}, nil)
	waitFor(t, "b's member", func() bool { return len(a.room.Others()) == 1 })
	bRoom.Kill()
	waitFor(t, "b's member announced gone", func() bool {
		g := ca.got()
		return len(g) > 0 && g[len(g)-1] == "<announce> <user4@b> is disconnected."
	})
	if len(a.room.Others()) != 0 {
		t.Errorf("a still lists %v", a.room.Others())
	}
	bHub.Close()
}

// TestNATSRestart: with the bus gone, each broker's room goes on
// locally; when it is back, the brokers are one room again.
func TestNATSRestart(t *testing.T) {
	s := natsServer(t, 0)
	port := s.Addr().(*net.TCPAddr).Port
	a := startBroker(t, s.ClientURL(), "a", false, 0)
	b := startBroker(t, s.ClientURL(), "b", false, 0)
	settled(t, s, 2)
	a1, a2, b1 := dialClient(t, a), dialClient(t, a), dialClient(t, b)
	waitFor(t, "the clients", func() bool { return a.hub.Len() == 2 && b.hub.Len() == 1 })
	fmt.Fprintf(a1.c, "before\n")
	waitFor(t, "the first line", func() bool { return len(b1.got()) == 1 && len(a2.got()) == 1 })
	s.Shutdown()
	waitFor(t, "the brokers to notice", func() bool { return !a.room.Stats().Connected && !b.room.Stats().Connected })
	fmt.Fprintf(a1.c, "local\n")
	waitFor(t, "the local line", func() bool { return len(a2.got()) == 2 })
	s2 := natsServer(t, port)
	waitFor(t, "the brokers back", func() bool { return a.room.Stats().Connected && b.room.Stats().Connected })
	settled(t, s2, 2)
	fmt.Fprintf(b1.c, "after\n")
	waitFor(t, "the line after", func() bool { return len(a1.got()) >= 1 && len(a2.got()) >= 3 })
	if got := a1.got(); got[len(got)-1] != "after" {
		t.Errorf("a1 heard %q", got)
	}
	// The line said while the bus was away stayed local, and is counted.
	if got, st := b1.got(), a.room.Stats(); strings.Contains(strings.Join(got, ","), "local") || st.SendDropped != 1 {
		t.Errorf("b1 heard %q; a's counts: %+v", got, st)
	}
}

// TestNodeTaken: a chat broker whose node name another has is refused.
func TestNodeTaken(t *testing.T) {
	s := natsServer(t, 0)
	startBroker(t, s.ClientURL(), "a", true, 100*time.Millisecond)
	room, err := federation.Dial(federation.Options{URL: s.ClientURL(), Room: "test", Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	h := hub.New(hub.Options{Chat: true, Node: "a", Forward: room.Forward})
	defer h.Close()
	if err := room.Start(h, true); err == nil || !strings.Contains(err.Error(), "node name taken") {
		t.Fatalf("a second node a: %v", err)
	}
}

// TestCredentials: a user and password in the URL get in; a wrong
// password is refused at once, not retried forever in silence.
func TestCredentials(t *testing.T) {
	s := natsServerWith(t, &server.Options{Username: "u", Password: "p"})
	addr := s.Addr().String()
	room, err := federation.Dial(federation.Options{URL: "nats://u:p@" + addr, Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !room.Stats().Connected || strings.Contains(room.URL(), ":p@") {
		t.Errorf("connected %v, shown as %s", room.Stats().Connected, room.URL())
	}
	room.Close()
	if _, err := federation.Dial(federation.Options{URL: "nats://u:wrong@" + addr, Node: "a"}); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("a wrong password: %v", err)
	}
}

// TestTLSVerified: a tls:// server is verified: with its CA the room
// gets in, without it (the system's roots) it is refused at once.
func TestTLSVerified(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nats test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	s := natsServerWith(t, &server.Options{TLS: true, TLSTimeout: 5,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}})
	url := "tls://" + s.Addr().String()
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	room, err := federation.Dial(federation.Options{URL: url, Node: "a", TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	room.Close()
	if _, err := federation.Dial(federation.Options{URL: url, Node: "a"}); err == nil {
		t.Error("a server no root signed was trusted")
	}
}

// TestBrokerRestarts: a broker killed and started again under its node
// name is let back in, and its new clients are announced.
func TestBrokerRestarts(t *testing.T) {
	s := natsServer(t, 0)
	a := startBroker(t, s.ClientURL(), "a", true, 100*time.Millisecond)
	ca := dialClient(t, a)
	first, err := federation.Dial(federation.Options{URL: s.ClientURL(), Room: "test", Node: "b", Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Options{Chat: true, Node: "b", Forward: first.Forward})
	if err := first.Start(h, true); err != nil {
		t.Fatal(err)
	}
	first.Kill()
	h.Close()
	b := startBroker(t, s.ClientURL(), "b", true, 100*time.Millisecond) // its name is free once the first is silent
	dialClient(t, b)
	waitFor(t, "the restarted broker's client", func() bool {
		for _, l := range ca.got() {
			if l == "<announce> 127.0.0.1 is connected as <user4@b>." {
				return true
			}
		}
		return false
	})
}

// TestBusLater: a broker started before its NATS server serves locally,
// and joins the room when the server comes.
func TestBusLater(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var logged []string
	var mu sync.Mutex
	room, err := federation.Dial(federation.Options{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), Node: "a",
		Logf: func(f string, a ...any) { mu.Lock(); logged = append(logged, fmt.Sprintf(f, a...)); mu.Unlock() }})
	if err != nil {
		t.Fatalf("a bus not up yet: %v", err)
	}
	defer room.Close()
	if room.Stats().Connected {
		t.Fatal("connected to nothing")
	}
	mu.Lock()
	if len(logged) == 0 || !strings.Contains(logged[0], "not answering yet") {
		t.Errorf("logged %q", logged)
	}
	mu.Unlock()
	natsServer(t, port)
	waitFor(t, "the bus", func() bool { return room.Stats().Connected })
}
