package monitor

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/events"
)

// TestCounts: each kind of event moves the metrics it should, and only
// those; labels come from fixed sets.
func TestCounts(t *testing.T) {
	m := New("test")
	l := netip.MustParseAddrPort("127.0.0.1:8080")
	client := func(port uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port) }
	for _, e := range []events.Event{
		{Kind: events.Accepted, UID: "C1", Orig: client(40000), Resp: l},
		{Kind: events.Accepted, UID: "C2", Orig: client(40001), Resp: l},
		{Kind: events.Refused, Local: "127.0.0.1:8080", Reason: "not allowed"},
		{Kind: events.Refused, Local: "127.0.0.1:8080", Reason: "connection limit reached (2)"},
		{Kind: events.TLS, UID: "C1"},
		{Kind: events.ChildStarted, UID: "C1"},
		{Kind: events.ChildExited, UID: "C1"},
		{Kind: events.Closed, UID: "C1", OrigBytes: 10, RespBytes: 20, Duration: 5 * time.Millisecond},
		{Kind: events.Closed, UID: "Cx", ConnState: "REJ"}, // a dial that failed
		{Kind: events.Connected, UID: "C3"},
		{Kind: events.Error, Reason: "x"},
		{Kind: events.Error, Op: "tls", Reason: "tls handshake: EOF"},
		{Kind: events.Closed, UID: "Cy", ConnState: "S0", Op: "tls"},
	} {
		m.Observe(e)
	}
	var b bytes.Buffer
	m.write(&b, false)
	for _, want := range []string{
		`sockit_connections_accepted_total{listener="127.0.0.1:8080"} 2`,
		`sockit_connections_refused_total{listener="127.0.0.1:8080",reason="acl"} 1`,
		`sockit_connections_refused_total{listener="127.0.0.1:8080",reason="max_conns"} 1`,
		`sockit_sessions_active{listener="127.0.0.1:8080"} 1`,
		`sockit_sessions_active{listener=""} 1`,
		"sockit_sessions_closed_total 1",
		`sockit_session_bytes_total{direction="orig"} 10`,
		`sockit_session_bytes_total{direction="resp"} 20`,
		`sockit_session_duration_seconds_bucket{le="0.001"} 0`,
		`sockit_session_duration_seconds_bucket{le="0.01"} 1`,
		"sockit_dials_failed_total 2",
		"sockit_tls_handshakes_total 1",
		"sockit_tls_failures_total 2",
		`sockit_errors_total{op="tls"} 1`,
		`sockit_errors_total{op="exec"} 0`,
		"sockit_children_running 0",
		"sockit_children_exited_total 1",
		`sockit_errors_total{op="other"} 1`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
}

// TestSlowEventClient: a client of /api/events that reads nothing loses
// events, counted, and the observer never waits for it.
func TestSlowEventClient(t *testing.T) {
	var f fanout
	c := &sseClient{lines: make(chan []byte, 2)}
	f.clients = map[*sseClient]struct{}{c: {}}
	done := make(chan struct{})
	go func() {
		for i := 0; i < 10; i++ {
			f.observe(events.Event{Kind: events.Error, Reason: "x"})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the observer waited for a client that does not read")
	}
	if len(c.lines) != 2 || c.dropped.Load() != 8 {
		t.Errorf("%d queued, %d dropped; want 2 and 8", len(c.lines), c.dropped.Load())
	}
}

// TestLiveTable: a session is listed from its accept to its close, with
// what each direction moved once it is done.
func TestLiveTable(t *testing.T) {
	var l live
	orig, resp := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:8080")
	l.observe(events.Event{Kind: events.Accepted, UID: "C1", Orig: orig, Resp: resp, Time: time.Now()})
	l.observe(events.Event{Kind: events.Connected, UID: "C1"}) // the relay's other leg
	l.observe(events.Event{Kind: events.TLS, UID: "C1", TLSVersion: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256"})
	l.observe(events.Event{Kind: events.HalfClose, UID: "C1", Dir: events.Orig, Bytes: 42})
	s := l.sessions["C1"]
	if len(l.sessions) != 1 || s.Orig != orig.String() || !s.OrigDone || s.RespDone || *s.OrigBytes != 42 || s.TLS != "TLS 1.3 TLS_AES_128_GCM_SHA256" {
		t.Errorf("table %+v", s)
	}
	l.observe(events.Event{Kind: events.Closed, UID: "C1"})
	if len(l.sessions) != 0 {
		t.Errorf("closed session still listed")
	}
}
