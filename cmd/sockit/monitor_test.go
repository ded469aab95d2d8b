package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// scrape reads /metrics into sample → value ("name{labels}" as written).
func scrape(t *testing.T, url, accept string) (map[string]float64, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	samples := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, string(b)
}

// scrapeUntil scrapes url until ok says the samples are there, for 30 s
// at most, and returns the last scrape.
func scrapeUntil(t *testing.T, url string, ok func(map[string]float64) bool) (map[string]float64, string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		m, text := scrape(t, url, "")
		if ok(m) || time.Now().After(deadline) {
			return m, text
		}
	}
}

// TestMonitorMetrics: a relay's --monitor serves metrics that promtool
// accepts, and every counter moves by exactly what its clients did.
func TestMonitorMetrics(t *testing.T) {
	promtool := testenv.Peer(t, "promtool")
	up := testenv.Upstream(t, func(b []byte) []byte { return append(b, b...) })
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	relay := testenv.Start(t, nil, testenv.Binary(t), "relay", "--monitor", "127.0.0.1:"+mport,
		"TCP-LISTEN:"+port+",bind=127.0.0.1,fork,reuseaddr", "TCP:"+up)
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)
	url := "http://127.0.0.1:" + mport + "/metrics"
	listener := `{listener="127.0.0.1:` + port + `"}`
	before, _ := scrape(t, url, "")
	if before["sockit_connections_accepted_total"+listener] != 0 || before["sockit_sessions_closed_total"] != 0 {
		t.Fatalf("counters before any traffic: %v", before)
	}
	const clients = 7
	var sent, got int
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
			msg := bytes.Repeat([]byte("m"), 100+i*1000)
			c.Write(msg)
			c.(*net.TCPConn).CloseWrite()
			b, _ := io.ReadAll(c)
			mu.Lock()
			sent += len(msg)
			got += len(b)
			mu.Unlock()
		})
	}
	wg.Wait()
	after, text := scrapeUntil(t, url, func(m map[string]float64) bool { return m["sockit_sessions_closed_total"] == clients })
	want := map[string]float64{
		"sockit_connections_accepted_total" + listener:                        clients,
		"sockit_sessions_active" + listener:                                   0,
		"sockit_sessions_closed_total":                                        clients,
		`sockit_session_bytes_total{direction="orig"}`:                        float64(sent),
		`sockit_session_bytes_total{direction="resp"}`:                        float64(got),
		"sockit_session_duration_seconds_count":                               clients,
		`sockit_session_duration_seconds_bucket{le="+Inf"}`:                   clients,
		"sockit_dials_failed_total":                                           0,
		`sockit_build_info{version="0.1.0",goversion="` + goVersion(t) + `"}`: 1,
	}
	for k, v := range want {
		if after[k] != v {
			t.Errorf("%s = %v, want %v", k, after[k], v)
		}
	}
	if got != 2*sent {
		t.Errorf("clients sent %d and got %d", sent, got)
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
	_, open := scrape(t, url, "application/openmetrics-text; version=1.0.0")
	if !strings.HasSuffix(open, "# EOF\n") || !strings.Contains(open, "# TYPE sockit_connections_accepted counter\n") {
		t.Errorf("OpenMetrics:\n%s", open)
	}
	syscall.Kill(relay.Cmd.Process.Pid, syscall.SIGTERM)
	relay.Wait(t)
}

var goVersionLine = regexp.MustCompile(`go1\.[0-9.]+`)

// goVersion is the Go the test binary (and so sockit) was built with.
func goVersion(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	return goVersionLine.FindString(string(out))
}

// TestMonitorRefusesTheNetwork: --monitor serves loopback only.
func TestMonitorRefusesTheNetwork(t *testing.T) {
	p := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "192.0.2.1:9090", "-l", "127.0.0.1", testenv.FreePort(t, "tcp4", "127.0.0.1"))
	if code := p.Wait(t); code == 0 || !strings.Contains(p.Stderr.String(), "not a loopback address") || strings.Count(p.Stderr.String(), "\n") != 1 {
		t.Errorf("exit %d: %q", code, p.Stderr.String())
	}
}

// TestMonitorLive: /api/sessions lists the sessions open now, and
// /api/events streams their events as they happen.
func TestMonitorLive(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "127.0.0.1:"+mport, "-k", "-l", "127.0.0.1", port, "-c", "cat")
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)
	base := "http://127.0.0.1:" + mport
	stream, err := http.Get(base + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	lines := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := stream.Body.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.Index(acc, "\n")
				if i < 0 {
					break
				}
				lines <- acc[:i]
				acc = acc[i+1:]
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	if l := <-lines; !strings.HasPrefix(l, ": sockit events") {
		t.Fatalf("first SSE line %q", l)
	}
	c, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("ping\n"))
	io.ReadFull(c, make([]byte, 5)) // cat answered: the session is up
	sessions := func() []map[string]any {
		resp, err := http.Get(base + "/api/sessions")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct{ Sessions []map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v.Sessions
	}
	s := sessions()
	if len(s) != 1 || s[0]["orig"] != c.LocalAddr().String() || s[0]["child_pid"] == nil {
		t.Errorf("/api/sessions with one client: %v", s)
	}
	// The kernel's counts of the open session: "ping\n" each way (the
	// echo's count is its acknowledged bytes, so it may lag a moment).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s = sessions(); len(s) == 1 && s[0]["orig_bytes_so_far"] == 5.0 && s[0]["resp_bytes_so_far"] == 5.0 {
			break
		}
	}
	if len(s) != 1 || s[0]["orig_bytes_so_far"] != 5.0 || s[0]["resp_bytes_so_far"] != 5.0 || s[0]["orig_rate"] == nil {
		t.Errorf("counts so far: %v", s)
	}
	var kinds []string
	for l := range lines {
		if strings.HasPrefix(l, "data: ") {
			var e map[string]any
			json.Unmarshal([]byte(l[6:]), &e)
			kinds = append(kinds, e["event"].(string))
			if e["event"] == "child_started" {
				break
			}
		}
	}
	if strings.Join(kinds, " ") != "accepted child_started" {
		t.Errorf("SSE events %q", kinds)
	}
	// Without --monitor-allow-control, no reader may end a session.
	resp, err := http.Post(base+"/api/sessions/"+s[0]["uid"].(string)+"/close", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("close without control: %s", resp.Status)
	}
	c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(sessions()) != 0; time.Sleep(20 * time.Millisecond) {
	}
	if s := sessions(); len(s) != 0 {
		t.Errorf("after the client left: %v", s)
	}
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
}

// TestMonitorAccess: --monitor-token asks every request for its bearer
// token, and lets the monitor listen beyond loopback; --monitor-allow
// lets only the hosts it names read it.
func TestMonitorAccess(t *testing.T) {
	get := func(url, token string) int {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tests := []struct {
		name  string
		bind  string // the monitor's host
		flags []string
		token string
		want  int
	}{
		{"token missing", "0.0.0.0", []string{"--monitor-token", "s3cret"}, "", http.StatusUnauthorized},
		{"token wrong", "0.0.0.0", []string{"--monitor-token", "s3cret"}, "guess", http.StatusUnauthorized},
		{"token right", "0.0.0.0", []string{"--monitor-token", "s3cret"}, "s3cret", http.StatusOK},
		{"allowed", "127.0.0.1", []string{"--monitor-allow", "127.0.0.1"}, "", http.StatusOK},
		{"not allowed", "127.0.0.1", []string{"--monitor-allow", "127.0.0.2"}, "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
			argv := append([]string{testenv.Binary(t), "--monitor", tt.bind + ":" + mport}, tt.flags...)
			p := testenv.Start(t, nil, append(argv, "-k", "-l", "127.0.0.1", testenv.FreePort(t, "tcp4", "127.0.0.1"))...)
			waitTCP(t, "127.0.0.1:"+mport)
			if got := get("http://127.0.0.1:"+mport+"/metrics", tt.token); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
			syscall.Kill(p.Cmd.Process.Pid, syscall.SIGTERM)
			p.Wait(t)
		})
	}
}

// TestTop: `sockit top ADDR` prints the monitor's open sessions (once,
// when stdout is not a terminal), and says why when it cannot.
func TestTop(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "127.0.0.1:"+mport, "--monitor-token", "tk", "-k", "-l", "127.0.0.1", port, "-c", "cat")
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)
	c, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x\n"))
	io.ReadFull(c, make([]byte, 2))
	p := testenv.Start(t, nil, testenv.Binary(t), "top", "--token", "tk", "127.0.0.1:"+mport)
	if code := p.Wait(t); code != 0 {
		t.Fatalf("top: exit %d: %s", code, p.Stderr.String())
	}
	out := p.Stdout.String()
	if !strings.HasPrefix(out, "1 sessions open at ") || !strings.Contains(out, c.LocalAddr().String()) || !strings.Contains(out, "ORIGINATOR") {
		t.Errorf("top printed:\n%s", out)
	}
	p = testenv.Start(t, nil, testenv.Binary(t), "top", "127.0.0.1:"+mport) // no token
	if code := p.Wait(t); code != 1 || !strings.Contains(p.Stderr.String(), "401") || strings.Count(p.Stderr.String(), "\n") != 1 {
		t.Errorf("top without the token: exit %d, %q", code, p.Stderr.String())
	}
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
}

// TestMonitorTLSFailure: a client that is not speaking TLS to a TLS
// listener is counted as a failed handshake and an error of op tls.
func TestMonitorTLSFailure(t *testing.T) {
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "127.0.0.1:"+mport, "--ssl", "-k", "-l", "127.0.0.1", port)
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)
	c, err := net.Dial("tcp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	io.ReadAll(c)
	c.Close()
	url := "http://127.0.0.1:" + mport + "/metrics"
	m, _ := scrapeUntil(t, url, func(m map[string]float64) bool { return m["sockit_tls_failures_total"] == 1 })
	if m["sockit_tls_failures_total"] != 1 || m[`sockit_errors_total{op="tls"}`] != 1 || m["sockit_tls_handshakes_total"] != 0 {
		t.Errorf("after a failed handshake: failures %v, tls errors %v, handshakes %v",
			m["sockit_tls_failures_total"], m[`sockit_errors_total{op="tls"}`], m["sockit_tls_handshakes_total"])
	}
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
}

// TestMonitorEveryServingMode: a broker, a chat, a proxy server and a
// relay with fork all count their clients in /metrics.
func TestMonitorEveryServingMode(t *testing.T) {
	tests := []struct {
		name string
		argv func(port string) []string
	}{
		{"broker", func(p string) []string { return []string{"--broker", "-l", "127.0.0.1", p} }},
		{"chat", func(p string) []string { return []string{"--chat", "-l", "127.0.0.1", p} }},
		{"proxy server", func(p string) []string { return []string{"-l", "--proxy-type", "http", "127.0.0.1", p} }},
		{"listener -k", func(p string) []string { return []string{"-k", "-l", "127.0.0.1", p} }},
		{"relay fork", func(p string) []string {
			return []string{"relay", "TCP-LISTEN:" + p + ",bind=127.0.0.1,fork,reuseaddr", "SYSTEM:cat"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
			argv := tt.argv(port)
			if argv[0] == "relay" {
				argv = append([]string{"relay", "--monitor", "127.0.0.1:" + mport}, argv[1:]...)
			} else {
				argv = append([]string{"--monitor", "127.0.0.1:" + mport}, argv...)
			}
			srv := testenv.Start(t, nil, append([]string{testenv.Binary(t)}, argv...)...)
			waitTCP(t, "127.0.0.1:"+port)
			waitTCP(t, "127.0.0.1:"+mport)
			for i := 0; i < 3; i++ {
				c, err := net.Dial("tcp4", "127.0.0.1:"+port)
				if err != nil {
					t.Fatal(err)
				}
				c.Close()
			}
			url := "http://127.0.0.1:" + mport + "/metrics"
			key := `sockit_connections_accepted_total{listener="127.0.0.1:` + port + `"}`
			m, _ := scrapeUntil(t, url, func(m map[string]float64) bool { return m[key] == 3 })
			if m[key] != 3 {
				t.Errorf("%s = %v, want 3", key, m[key])
			}
			syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
			srv.Wait(t)
		})
	}
}

// TestMonitorBroker: a broker's /metrics counts its clients, the bytes
// queued for one that stopped reading, and that client cut off when it
// passes --max-queue; the --json event of its end says why.
func TestMonitorBroker(t *testing.T) {
	promtool := testenv.Peer(t, "promtool")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "127.0.0.1:"+mport, "--json=-",
		"--broker", "--max-queue", "16M", "--lag-grace", "1ms", "-l", "127.0.0.1", port)
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)
	url := "http://127.0.0.1:" + mport + "/metrics"
	dial := func() net.Conn {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	waitFor := func(what string, ok func(m map[string]float64) bool) (map[string]float64, string) {
		t.Helper()
		m, text := scrapeUntil(t, url, ok)
		if !ok(m) {
			t.Fatalf("no %s in /metrics:\n%s", what, text)
		}
		return m, text
	}
	sender, stalled := dial(), dial()
	waitFor("2 clients", func(m map[string]float64) bool { return m["sockit_broker_clients"] == 2 })
	// More than the kernel holds for a reader that does not read (4 MiB of
	// send buffer and the receive buffer's start) and less than the
	// backlog: the rest waits in the room.
	chunk := make([]byte, 8<<20)
	if _, err := sender.Write(chunk); err != nil {
		t.Fatal(err)
	}
	m, text := waitFor("bytes queued", func(m map[string]float64) bool {
		return m["sockit_broker_queued_bytes"] > 0 && m["sockit_broker_clients_lagging"] == 1
	})
	if m["sockit_broker_queued_bytes"] > float64(len(chunk)) || m["sockit_broker_slow_readers_cut_total"] != 0 {
		t.Errorf("after %d bytes to a stalled reader:\n%s", len(chunk), text)
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(text)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
	// Past the backlog: the stalled reader is cut off.
	for i := 0; i < 2; i++ {
		if _, err := sender.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("slow reader cut off", func(m map[string]float64) bool {
		return m["sockit_broker_slow_readers_cut_total"] == 1 && m["sockit_broker_clients"] == 1 &&
			m["sockit_broker_queued_bytes"] == 0 && m["sockit_broker_clients_lagging"] == 0
	})
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
	var cut int
	for _, line := range strings.Split(srv.Stderr.String(), "\n") {
		if strings.Contains(line, `"closed"`) && strings.Contains(line, `"op":"slow_reader"`) {
			cut++
			if !strings.Contains(line, `"conn_state":"RSTR"`) || !strings.Contains(line, "reads slower than the room speaks") {
				t.Errorf("closed event of the client cut off: %s", line)
			}
		}
	}
	if cut != 1 {
		t.Errorf("%d closed events for a slow reader, want 1:\n%s", cut, srv.Stderr.String())
	}
	stalled.Close()
}
