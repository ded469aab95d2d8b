// Package monitor watches a running sockit server through its events
// (package events) and serves what it sees: Prometheus metrics at
// /metrics, the sessions open now at /api/sessions, and the events as
// they come at /api/events (Server-Sent Events). It never sees payload
// bytes, and it shares nothing with the data path but the events, so a
// slow scraper or browser never slows a session.
package monitor

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sockit/sockit/events"
)

// durationBuckets are the session duration histogram's upper bounds, in
// seconds: from a quick request to a day-long tunnel.
var durationBuckets = []float64{0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 86400}

// Monitor counts what the events tell. It is an events.Observer; its
// zero value is not ready, use New.
type Monitor struct {
	version string
	started time.Time
	table   live
	stream  fanout

	mu        sync.Mutex
	accepted  map[string]float64    // by listener
	refused   map[[2]string]float64 // by listener and reason
	active    map[string]float64    // by listener; "" for sessions sockit dialled
	live      map[string]string     // session uid → its listener
	bytes     map[string]float64    // by direction: orig, resp
	sessions  float64               // closed
	durations []float64             // histogram counts, one per bucket, plus +Inf
	durSum    float64
	tls       float64
	children  float64 // running
	exited    float64
	errors    map[string]float64 // by op: tls, exec, dial, other
	dialFails float64
	tlsFails  float64
	room      func() Room // nil unless the server is a broker or chat
}

// Room is a broker's or chat's room at one moment, as /metrics reports
// it: the hub keeps these numbers, no event carries them.
type Room struct {
	Clients int   // in the room now
	Lagging int   // clients with bytes queued for them
	Queued  int64 // bytes queued, once for each client that waits for them
	CutOff  int64 // clients disconnected for reading slower than the room speaks
	// Federated is the room's traffic with other brokers (--federate),
	// counted apart from its local traffic; nil when it has none.
	Federated *Federated
}

// Federated counts a room's messages over the bus.
type Federated struct {
	Sent, SendDropped, Received, ReceiveDropped int64
	Nodes                                       int
	Connected                                   bool
}

// WatchRoom has /metrics report the room that stats describes at each
// scrape. stats must be quick and must not wait on the room's traffic.
func (m *Monitor) WatchRoom(stats func() Room) {
	m.mu.Lock()
	m.room = stats
	m.mu.Unlock()
}

// New returns a Monitor of a program of that version.
func New(version string) *Monitor {
	return &Monitor{
		version: version, started: time.Now(),
		accepted: map[string]float64{}, refused: map[[2]string]float64{}, active: map[string]float64{},
		live: map[string]string{}, bytes: map[string]float64{"orig": 0, "resp": 0}, errors: map[string]float64{},
		durations: make([]float64, len(durationBuckets)+1),
	}
}

// Observe counts one event, keeps the table of live sessions, and
// passes it on to /api/events.
func (m *Monitor) Observe(e events.Event) {
	m.table.observe(e)
	m.stream.observe(e)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch e.Kind {
	case events.Accepted:
		l := listenerOf(e)
		m.accepted[l]++
		m.active[l]++
		m.live[e.UID] = l
	case events.Connected:
		if _, ok := m.live[e.UID]; !ok {
			m.live[e.UID] = ""
			m.active[""]++
		}
	case events.Refused:
		reason := "acl"
		if strings.HasPrefix(e.Reason, "connection limit") {
			reason = "max_conns"
		}
		m.refused[[2]string{e.Local, reason}]++
	case events.TLS:
		m.tls++
	case events.ChildStarted:
		m.children++
	case events.ChildExited:
		m.children--
		m.exited++
	case events.Error:
		op := e.Op
		switch op {
		case "tls", "exec", "dial":
		default:
			op = "other"
		}
		m.errors[op]++
		if op == "tls" {
			m.tlsFails++
		}
	case events.Closed:
		l, ok := m.live[e.UID]
		if !ok { // a dial that failed: no session was live
			m.dialFails++
			if e.Op == "tls" {
				m.tlsFails++
			}
			return
		}
		delete(m.live, e.UID)
		m.active[l]--
		m.sessions++
		m.bytes["orig"] += float64(e.OrigBytes)
		m.bytes["resp"] += float64(e.RespBytes)
		d := e.Duration.Seconds()
		m.durSum += d
		i := sort.SearchFloat64s(durationBuckets, d)
		m.durations[i]++
	}
}

// listenerOf names the listener of an accepted session: the address
// its clients reach (the responder's, as Zeek names it).
func listenerOf(e events.Event) string {
	if e.Resp.IsValid() {
		return e.Resp.String()
	}
	return e.Local
}

// ServeHTTP serves /metrics: Prometheus's text format, or OpenMetrics
// when the scraper's Accept asks for it.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	open := strings.Contains(r.Header.Get("Accept"), "application/openmetrics-text")
	if open {
		w.Header().Set("Content-Type", "application/openmetrics-text; version=1.0.0; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	}
	bw := bufio.NewWriter(w)
	m.write(bw, open)
	bw.Flush()
}

// write renders every metric family.
func (m *Monitor) write(w io.Writer, open bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fam := func(name, typ, help string) {
		base := name
		if open && typ == "counter" {
			base = strings.TrimSuffix(name, "_total")
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", base, help, base, typ)
	}
	fam("sockit_connections_accepted_total", "counter", "Connections accepted and let in, by listener.")
	for _, l := range keys(m.accepted) {
		fmt.Fprintf(w, "sockit_connections_accepted_total{listener=%q} %s\n", l, num(m.accepted[l]))
	}
	fam("sockit_connections_refused_total", "counter", "Connections turned away, by listener and reason (acl, max_conns).")
	var refused [][2]string
	for k := range m.refused {
		refused = append(refused, k)
	}
	sort.Slice(refused, func(i, j int) bool { return refused[i][0]+refused[i][1] < refused[j][0]+refused[j][1] })
	for _, k := range refused {
		fmt.Fprintf(w, "sockit_connections_refused_total{listener=%q,reason=%q} %s\n", k[0], k[1], num(m.refused[k]))
	}
	fam("sockit_sessions_active", "gauge", "Sessions open now, by listener (\"\" for sessions sockit dialled).")
	for _, l := range keys(m.active) {
		fmt.Fprintf(w, "sockit_sessions_active{listener=%q} %s\n", l, num(m.active[l]))
	}
	fam("sockit_sessions_closed_total", "counter", "Sessions that have ended.")
	fmt.Fprintf(w, "sockit_sessions_closed_total %s\n", num(m.sessions))
	fam("sockit_session_bytes_total", "counter", "Payload bytes of ended sessions, by direction: orig from the originator (the client), resp from the responder.")
	for _, d := range []string{"orig", "resp"} {
		fmt.Fprintf(w, "sockit_session_bytes_total{direction=%q} %s\n", d, num(m.bytes[d]))
	}
	fam("sockit_session_duration_seconds", "histogram", "How long ended sessions lasted.")
	var cum float64
	for i, b := range durationBuckets {
		cum += m.durations[i]
		fmt.Fprintf(w, "sockit_session_duration_seconds_bucket{le=%q} %s\n", num(b), num(cum))
	}
	cum += m.durations[len(durationBuckets)]
	fmt.Fprintf(w, "sockit_session_duration_seconds_bucket{le=\"+Inf\"} %s\n", num(cum))
	fmt.Fprintf(w, "sockit_session_duration_seconds_sum %s\nsockit_session_duration_seconds_count %s\n", num(m.durSum), num(cum))
	fam("sockit_dials_failed_total", "counter", "Connects that failed (refused, no answer).")
	fmt.Fprintf(w, "sockit_dials_failed_total %s\n", num(m.dialFails))
	fam("sockit_tls_handshakes_total", "counter", "TLS handshakes completed.")
	fmt.Fprintf(w, "sockit_tls_handshakes_total %s\n", num(m.tls))
	fam("sockit_tls_failures_total", "counter", "TLS handshakes that failed, as a server's or in a dial.")
	fmt.Fprintf(w, "sockit_tls_failures_total %s\n", num(m.tlsFails))
	fam("sockit_children_running", "gauge", "Commands running for sessions (-e, -c, EXEC, SYSTEM).")
	fmt.Fprintf(w, "sockit_children_running %s\n", num(m.children))
	fam("sockit_children_exited_total", "counter", "Commands that have exited.")
	fmt.Fprintf(w, "sockit_children_exited_total %s\n", num(m.exited))
	fam("sockit_errors_total", "counter", "Failures in a session, by what failed (tls, exec, other).")
	for _, op := range []string{"exec", "other", "tls"} {
		fmt.Fprintf(w, "sockit_errors_total{op=%q} %s\n", op, num(m.errors[op]))
	}
	if m.room != nil {
		r := m.room()
		fam("sockit_broker_clients", "gauge", "Clients in the broker or chat room.")
		fmt.Fprintf(w, "sockit_broker_clients %d\n", r.Clients)
		fam("sockit_broker_clients_lagging", "gauge", "Clients of the room with bytes queued for them.")
		fmt.Fprintf(w, "sockit_broker_clients_lagging %d\n", r.Lagging)
		fam("sockit_broker_queued_bytes", "gauge", "Bytes queued for the room's lagging clients, once for each client that waits for them.")
		fmt.Fprintf(w, "sockit_broker_queued_bytes %d\n", r.Queued)
		fam("sockit_broker_slow_readers_cut_total", "counter", "Clients the room disconnected for passing the backlog (--max-queue).")
		fmt.Fprintf(w, "sockit_broker_slow_readers_cut_total %d\n", r.CutOff)
		if f := r.Federated; f != nil {
			fam("sockit_federation_messages_total", "counter", "Messages between this broker's room and the others over NATS, by direction and fate.")
			fmt.Fprintf(w, "sockit_federation_messages_total{direction=\"sent\",result=\"ok\"} %d\n", f.Sent)
			fmt.Fprintf(w, "sockit_federation_messages_total{direction=\"sent\",result=\"dropped\"} %d\n", f.SendDropped)
			fmt.Fprintf(w, "sockit_federation_messages_total{direction=\"received\",result=\"ok\"} %d\n", f.Received)
			fmt.Fprintf(w, "sockit_federation_messages_total{direction=\"received\",result=\"dropped\"} %d\n", f.ReceiveDropped)
			fam("sockit_federation_nodes", "gauge", "Other brokers of the room heard from lately (chat).")
			fmt.Fprintf(w, "sockit_federation_nodes %d\n", f.Nodes)
			fam("sockit_federation_connected", "gauge", "1 while the broker is connected to NATS.")
			fmt.Fprintf(w, "sockit_federation_connected %d\n", boolNum(f.Connected))
		}
	}
	fam("sockit_build_info", "gauge", "The build: always 1, its labels say which.")
	fmt.Fprintf(w, "sockit_build_info{version=%q,goversion=%q} 1\n", m.version, runtime.Version())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fam("go_goroutines", "gauge", "Goroutines that currently exist.")
	fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
	fam("go_memstats_heap_alloc_bytes", "gauge", "Heap bytes allocated and in use.")
	fmt.Fprintf(w, "go_memstats_heap_alloc_bytes %d\n", ms.HeapAlloc)
	fam("process_start_time_seconds", "gauge", "When the process started, in seconds since the epoch.")
	fmt.Fprintf(w, "process_start_time_seconds %s\n", num(float64(m.started.UnixMicro())/1e6))
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		fam("process_open_fds", "gauge", "Open file descriptors.")
		fmt.Fprintf(w, "process_open_fds %d\n", len(ents))
	}
	if open {
		fmt.Fprint(w, "# EOF\n")
	}
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// num writes a sample value as Prometheus reads it.
func num(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%g", v)
}

func boolNum(b bool) int {
	if b {
		return 1
	}
	return 0
}
