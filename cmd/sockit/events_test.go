package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// event is a --json line, as a program would read it.
type event map[string]any

func (e event) str(k string) string { s, _ := e[k].(string); return s }
func (e event) num(k string) int64  { f, _ := e[k].(float64); return int64(f) }

// readEvents parses the NDJSON lines of data (those that start with a
// brace: stderr holds error lines too), failing the test on one that is
// not an object of schema version 1.
func readEvents(t *testing.T, data []byte) []event {
	t.Helper()
	var out []event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if !bytes.HasPrefix(sc.Bytes(), []byte("{")) {
			continue // a line of the program's own, such as its error
		}
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not an NDJSON line: %q: %v", sc.Text(), err)
		}
		if e.num("v") != 1 || e.str("event") == "" {
			t.Fatalf("line without v 1 and an event: %q", sc.Text())
		}
		out = append(out, e)
	}
	return out
}

// TestRelayEventsForkHundred: a relay with fork serves 100 clients,
// each sending and receiving a different number of bytes; its --json
// stream has, for each, exactly one accepted, one connected (the
// upstream leg), the first bytes and half-closes each way and one
// closed, with the counts the client saw.
func TestRelayEventsForkHundred(t *testing.T) {
	// The upstream answers each connection with twice what it read.
	up := testenv.Upstream(t, func(b []byte) []byte { return append(b, b...) })
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	log := filepath.Join(t.TempDir(), "events.ndjson")
	relay := testenv.Start(t, nil, testenv.Binary(t), "relay", "--json="+log,
		"TCP-LISTEN:"+port+",bind=127.0.0.1,fork,reuseaddr", "TCP:"+up)
	waitTCP(t, "127.0.0.1:"+port)
	const clients = 100
	type seen struct{ sent, got int }
	saw := make(map[int]seen) // by the client's port
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Go(func() {
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			msg := bytes.Repeat([]byte{byte('a' + i%26)}, i*37) // client 0 sends nothing
			c.Write(msg)
			c.(*net.TCPConn).CloseWrite()
			b, err := io.ReadAll(c)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			saw[c.LocalAddr().(*net.TCPAddr).Port] = seen{len(msg), len(b)}
			mu.Unlock()
		})
	}
	wg.Wait()
	syscall.Kill(relay.Cmd.Process.Pid, syscall.SIGTERM)
	relay.Wait(t)
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	evs := readEvents(t, data)
	if len(evs) == 0 || evs[0].str("event") != "listening" {
		t.Fatalf("the first event is not listening: %v", evs)
	}
	byUID := map[string][]event{}
	for _, e := range evs[1:] {
		byUID[e.str("uid")] = append(byUID[e.str("uid")], e)
	}
	if len(byUID) != clients {
		t.Fatalf("%d sessions in the events, want %d", len(byUID), clients)
	}
	matched := 0
	for uid, es := range byUID {
		kinds := map[string]int{}
		for _, e := range es {
			k := e.str("event")
			if d := e.str("dir"); d != "" {
				k += "/" + d
			}
			kinds[k]++
		}
		acc := es[0]
		s, ok := saw[int(acc.num("id.orig_p"))]
		if acc.str("event") != "accepted" || !ok {
			t.Errorf("%s: first event %v, from no client seen", uid, acc)
			continue
		}
		want := map[string]int{"accepted": 1, "connected": 1, "half_close/orig": 1, "half_close/resp": 1, "closed": 1}
		if s.sent > 0 {
			want["first_byte/orig"], want["first_byte/resp"] = 1, 1
		}
		if fmt.Sprint(kinds) != fmt.Sprint(want) {
			t.Errorf("%s (client sent %d): events %v, want %v", uid, s.sent, kinds, want)
		}
		last := es[len(es)-1]
		if last.str("event") != "closed" || last.num("orig_bytes") != int64(s.sent) || last.num("resp_bytes") != int64(s.got) ||
			last.str("conn_state") != "SF" || last.str("community_id") != acc.str("community_id") {
			t.Errorf("%s: closed %v; the client sent %d and got %d", uid, last, s.sent, s.got)
		}
		for _, e := range es {
			if e.str("event") == "half_close" {
				want := int64(s.sent)
				if e.str("dir") == "resp" {
					want = int64(s.got)
				}
				if e.num("bytes") != want {
					t.Errorf("%s: %v, want bytes %d", uid, e, want)
				}
			}
		}
		matched++
	}
	if matched != clients {
		t.Errorf("%d sessions matched their clients, want %d", matched, clients)
	}
}

// TestNcatEvents: ncat-style sessions tell what they did: a listener and
// its client see one flow with one Community ID and the same counts, a
// refused connect is Zeek's REJ, -e's child starts and exits, and a scan
// is one event per port.
func TestNcatEvents(t *testing.T) {
	bin := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, strings.NewReader("welcome\n"), bin, "--json", "-l", "127.0.0.1", port)
	waitTCP(t, "127.0.0.1:"+port)
	cli := testenv.Start(t, strings.NewReader("hello there\n"), bin, "--json", "127.0.0.1", port)
	if code := cli.Wait(t); code != 0 {
		t.Fatalf("client exit %d: %s", code, cli.Stderr.String())
	}
	srv.Wait(t)
	closedOf := func(name string, p *testenv.Proc) event {
		t.Helper()
		evs := readEvents(t, p.Stderr.Bytes())
		if len(evs) == 0 || evs[len(evs)-1].str("event") != "closed" {
			t.Fatalf("%s: no closed event last: %s", name, p.Stderr.String())
		}
		return evs[len(evs)-1]
	}
	a, b := closedOf("listener", srv), closedOf("client", cli)
	for _, k := range []string{"community_id", "id.orig_h", "id.resp_h"} {
		if a.str(k) != b.str(k) {
			t.Errorf("%s: listener %q, client %q", k, a.str(k), b.str(k))
		}
	}
	if a.num("id.orig_p") != b.num("id.orig_p") || a.num("orig_bytes") != 12 || b.num("orig_bytes") != 12 ||
		a.num("resp_bytes") != 8 || b.num("resp_bytes") != 8 || cli.Stdout.String() != "welcome\n" {
		t.Errorf("listener %v\nclient %v", a, b)
	}

	closed := testenv.FreePort(t, "tcp4", "127.0.0.1")
	p := testenv.Start(t, strings.NewReader(""), bin, "--json", "127.0.0.1", closed)
	p.Wait(t)
	evs := readEvents(t, p.Stderr.Bytes())
	if len(evs) != 2 || evs[0].str("event") != "connecting" || evs[1].str("event") != "closed" || evs[1].str("conn_state") != "REJ" ||
		evs[0].str("uid") == "" || evs[0].str("uid") != evs[1].str("uid") {
		t.Errorf("refused connect: %s", p.Stderr.String())
	}

	port = testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv = testenv.Start(t, nil, bin, "--json", "-l", "127.0.0.1", port, "-c", "cat; exit 3")
	waitTCP(t, "127.0.0.1:"+port)
	cli = testenv.Start(t, strings.NewReader("ping\n"), bin, "127.0.0.1", port)
	cli.Wait(t)
	srv.Wait(t)
	kinds := []string{}
	status := int64(-1)
	for _, e := range readEvents(t, srv.Stderr.Bytes()) {
		kinds = append(kinds, e.str("event"))
		if e.str("event") == "child_exited" {
			status = e.num("status")
		}
	}
	if got := strings.Join(kinds, " "); !strings.HasPrefix(got, "listening accepted child_started") || !strings.Contains(got, "child_exited") || status != 3 {
		t.Errorf("-c session: events %q, child status %d", got, status)
	}

	scan := testenv.Start(t, nil, bin, "--json", "-z", "127.0.0.1", closed+"-"+strconv.Itoa(mustAtoi(t, closed)+1))
	scan.Wait(t)
	ports := readEvents(t, scan.Stderr.Bytes())
	if len(ports) != 2 || ports[0].str("event") != "port" || ports[0].num("port") != int64(mustAtoi(t, closed)) || ports[0].str("state") != "closed" {
		t.Errorf("scan events: %s", scan.Stderr.String())
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRelayEventsRetry: each retry of a refused dial is an event, and
// the last refusal is Zeek's REJ.
func TestRelayEventsRetry(t *testing.T) {
	closed := testenv.FreePort(t, "tcp4", "127.0.0.1")
	p := testenv.Start(t, strings.NewReader(""), testenv.Binary(t), "relay", "--json", "STDIO", "TCP:127.0.0.1:"+closed+",retry=2,interval=0.01")
	if code := p.Wait(t); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var got []string
	for _, e := range readEvents(t, p.Stderr.Bytes()) {
		got = append(got, fmt.Sprintf("%s %d %s", e.str("event"), e.num("attempt"), e.str("conn_state")))
	}
	if want := "retry 2 |retry 3 |closed 0 REJ"; strings.Join(got, "|") != want {
		t.Errorf("events %q, want %q\n%s", strings.Join(got, "|"), want, p.Stderr.String())
	}
}

// TestBrokerAndProxyEvents: a broker's clients and a proxy server's
// clients are told closed, with what they sent and got.
func TestBrokerAndProxyEvents(t *testing.T) {
	bin := testenv.Binary(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	broker := testenv.Start(t, nil, bin, "--json", "-v", "--broker", "-l", "127.0.0.1", port)
	broker.WaitListening(t)
	listener, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	speaker, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	// Both are in the room once the listener hears the speaker.
	got := make([]byte, 0, 64)
	for !strings.Contains(string(got), "ping") {
		speaker.Write([]byte("ping\n"))
		buf := make([]byte, 64)
		listener.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _ := listener.Read(buf)
		got = append(got, buf[:n]...)
	}
	speaker.Close()
	listener.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(broker.Stderr.String(), `"event":"closed"`) == 2 {
			break
		}
	}
	syscall.Kill(broker.Cmd.Process.Pid, syscall.SIGTERM)
	broker.Wait(t)
	var sent, heard int64 = -1, -1
	for _, e := range readEvents(t, broker.Stderr.Bytes()) {
		if e.str("event") != "closed" {
			continue
		}
		if e.num("orig_bytes") > 0 {
			sent = e.num("orig_bytes")
		} else {
			heard = e.num("resp_bytes")
		}
	}
	if sent < 5 || sent%5 != 0 || heard < 4 {
		t.Errorf("broker's closed events: speaker sent %d, listener heard %d\n%s", sent, heard, broker.Stderr.String())
	}

	target := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, strings.NewReader("from the target\n"), bin, "-v", "-l", "127.0.0.1", target)
	srv.WaitListening(t)
	pport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	proxy := testenv.Start(t, nil, bin, "--json", "-v", "-l", "--proxy-type", "http", "127.0.0.1", pport)
	proxy.WaitListening(t)
	cli := testenv.Start(t, strings.NewReader("through the proxy\n"), bin, "--proxy", "127.0.0.1:"+pport, "127.0.0.1", target)
	if code := cli.Wait(t); code != 0 || cli.Stdout.String() != "from the target\n" {
		t.Fatalf("client through the proxy: exit %d, %q: %s", code, cli.Stdout.String(), cli.Stderr.String())
	}
	srv.Wait(t)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(proxy.Stderr.String(), `"event":"closed"`) {
			break
		}
	}
	syscall.Kill(proxy.Cmd.Process.Pid, syscall.SIGTERM)
	proxy.Wait(t)
	var closed []event
	for _, e := range readEvents(t, proxy.Stderr.Bytes()) {
		if e.str("event") == "closed" {
			closed = append(closed, e)
		}
	}
	// The client sent its CONNECT request and its line; it got the
	// proxy's 200 and the target's line.
	if len(closed) != 1 || closed[0].num("orig_bytes") <= int64(len("through the proxy\n")) || closed[0].num("resp_bytes") <= int64(len("from the target\n")) {
		t.Errorf("proxy's closed events %v\n%s", closed, proxy.Stderr.String())
	}
}
