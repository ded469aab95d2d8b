package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/events.ndjson")

// everyKind is one event of each kind, with the fields it carries.
func everyKind() []Event {
	t0 := time.Date(2026, 12, 3, 16, 0, 0, 123456000, time.UTC)
	orig := netip.MustParseAddrPort("127.0.0.1:40000")
	resp := netip.MustParseAddrPort("127.0.0.1:8080")
	flow := Event{UID: "CAbCdEfGhIjKlMnOpQ", Proto: "tcp", Orig: orig, Resp: resp,
		CommunityID: CommunityID(ProtoTCP, orig, resp, 0)}
	at := func(ms int, e Event) Event {
		e.Time = t0.Add(time.Duration(ms) * time.Millisecond)
		return e
	}
	with := func(k Kind, f func(*Event)) Event {
		e := flow
		e.Kind = k
		if f != nil {
			f(&e)
		}
		return e
	}
	return []Event{
		at(0, Event{Kind: Listening, Proto: "tcp", Local: "127.0.0.1:8080"}),
		at(1, with(Accepted, func(e *Event) { e.Verdict = "allow" })),
		at(2, with(Refused, func(e *Event) { e.Verdict = "deny"; e.Reason = "not in --allow" })),
		at(3, Event{Kind: Connecting, UID: flow.UID, Proto: "tcp", Remote: "localhost:5432"}),
		at(4, with(Connected, func(e *Event) { e.Family = "ipv6"; e.Tried = []string{"[::1]:5432"} })),
		at(5, with(TLS, func(e *Event) {
			e.TLSVersion, e.Cipher, e.ALPN, e.SNI = "TLS 1.3", "TLS_AES_128_GCM_SHA256", "h2", "localhost"
			e.PeerSHA256 = "3f1a" + strings.Repeat("0", 60)
		})),
		at(6, with(FirstByte, func(e *Event) { e.Dir = Orig })),
		at(7, with(HalfClose, func(e *Event) { e.Dir = Orig; e.Bytes = 12 })),
		at(8, with(HalfClose, func(e *Event) { e.Dir = Resp; e.Bytes = 0 })),
		at(9, with(ChildStarted, func(e *Event) { e.PID = 4242; e.Command = "/bin/cat" })),
		at(10, with(ChildExited, func(e *Event) { e.PID = 4242; e.Status = 0 })),
		at(11, with(Closed, func(e *Event) {
			e.Duration, e.OrigBytes, e.RespBytes, e.ConnState = 11*time.Millisecond, 12, 0, "SF"
		})),
		at(12, Event{Kind: Retry, Proto: "tcp", Remote: "127.0.0.1:5432", Attempt: 2, Reason: "connection refused"}),
		at(13, Event{Kind: Error, Op: "tls", Reason: "tls handshake: remote error: tls: bad certificate"}),
		at(14, Event{Kind: Port, Proto: "tcp", Remote: "127.0.0.1", PortNumber: 22, State: "open"}),
		at(15, Event{Kind: Closed, UID: "CzYxWvUtSrQpOnMlKj", Proto: "unix", Local: "/run/x.sock", Remote: "exec:/bin/cat", ConnState: "SF"}),
	}
}

// TestGolden pins the wire form of every kind: a change to it is a
// change of the schema, and of Version.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	kinds := map[Kind]bool{}
	for _, e := range everyKind() {
		enc.Observe(e)
		kinds[e.Kind] = true
	}
	if len(kinds) != 14 {
		t.Errorf("golden events cover %d kinds, want all 14", len(kinds))
	}
	const golden = "testdata/events.ndjson"
	if *update {
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("events changed; run go test ./events -update if on purpose\ngot:\n%s\nwant:\n%s", buf.String(), want)
	}
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line %d is not JSON: %v", i+1, err)
		}
		if m["v"] != float64(Version) {
			t.Errorf("line %d: v = %v", i+1, m["v"])
		}
	}
}

// TestEncoderLines: events from many goroutines come out as whole lines.
func TestEncoderLines(t *testing.T) {
	var buf safeBuffer
	enc := NewEncoder(&buf)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				enc.Observe(Event{Kind: Error, Reason: strings.Repeat("x", 100*g+i)})
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("torn line %q", l)
		}
	}
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *safeBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestEncoderKeepsFirstError(t *testing.T) {
	w := &failWriter{}
	enc := NewEncoder(w)
	enc.Observe(Event{Kind: Error})
	enc.Observe(Event{Kind: Error})
	if enc.Err() == nil || w.n != 1 {
		t.Errorf("Err() = %v after %d writes, want the first error after one", enc.Err(), w.n)
	}
}

func TestNewUID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := NewUID()
		if len(u) != 18 || u[0] != 'C' || seen[u] {
			t.Fatalf("uid %q (seen before: %v)", u, seen[u])
		}
		seen[u] = true
	}
}

func ExampleEncoder() {
	enc := NewEncoder(os.Stdout)
	orig := netip.MustParseAddrPort("128.232.110.120:34855")
	resp := netip.MustParseAddrPort("66.35.250.204:80")
	enc.Observe(Event{
		Time: time.Unix(1700000000, 500000000), Kind: Closed, UID: "C1", Proto: "tcp",
		Orig: orig, Resp: resp, CommunityID: CommunityID(ProtoTCP, orig, resp, 0),
		Duration: 1500 * time.Millisecond, OrigBytes: 5, RespBytes: 7, ConnState: "SF",
	})
	fmt.Println(enc.Err())
	// Output:
	// {"v":1,"ts":1700000000.5,"event":"closed","uid":"C1","proto":"tcp","id.orig_h":"128.232.110.120","id.orig_p":34855,"id.resp_h":"66.35.250.204","id.resp_p":80,"community_id":"1:LQU9qZlK+B5F3KDmev6m5PMibrg=","duration":1.5,"orig_bytes":5,"resp_bytes":7,"conn_state":"SF"}
	// <nil>
}

// TestTapOf: the Taps of an observer tree, and nil when none wants bytes.
func TestTapOf(t *testing.T) {
	var rec Recorder
	tp := &countTap{}
	if TapOf(nil) != nil || TapOf(&rec) != nil || TapOf(Fanout{&rec, Func(func(Event) {})}) != nil {
		t.Error("TapOf found a Tap where there is none")
	}
	if TapOf(tp) != Tap(tp) || TapOf(Fanout{&rec, tp}) != Tap(tp) {
		t.Error("TapOf missed the one Tap")
	}
	both := TapOf(Fanout{tp, &rec, Fanout{tp}})
	if both == nil {
		t.Fatal("TapOf missed two Taps")
	}
	both.Data(Chunk{Data: []byte("abc")})
	if tp.n != 6 {
		t.Errorf("the taps saw %d bytes, want 6 (3 each)", tp.n)
	}
}

type countTap struct{ n int }

func (c *countTap) Observe(Event) {}
func (c *countTap) Data(ch Chunk) { c.n += len(ch.Data) }
