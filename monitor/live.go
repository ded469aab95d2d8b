package monitor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockit/sockit/events"
)

// maxLive bounds the sessions the table holds: a server with more open
// at once shows the first this many (and says how many it left out).
const maxLive = 100_000

// live is the table of sessions open now, kept from the events.
type live struct {
	control  bool // sessions may be closed through the API
	mu       sync.Mutex
	sessions map[string]*liveSession
	omitted  map[string]bool // sessions open beyond maxLive, not shown
}

// liveSession is one row of /api/sessions.
type liveSession struct {
	UID         string    `json:"uid"`
	Proto       string    `json:"proto,omitempty"`
	Orig        string    `json:"orig,omitempty"` // the originator, host:port
	Resp        string    `json:"resp,omitempty"`
	Local       string    `json:"local,omitempty"`
	Remote      string    `json:"remote,omitempty"`
	CommunityID string    `json:"community_id,omitempty"`
	Start       time.Time `json:"start"`
	AgeSeconds  float64   `json:"age_seconds"`
	// What each direction moved, known once it is done (half-closed).
	OrigBytes *int64 `json:"orig_bytes,omitempty"`
	RespBytes *int64 `json:"resp_bytes,omitempty"`
	OrigDone  bool   `json:"orig_done"` // the originator's direction has reached EOF
	RespDone  bool   `json:"resp_done"`
	TLS       string `json:"tls,omitempty"` // "TLS 1.3 TLS_AES_128_GCM_SHA256"
	ChildPID  int    `json:"child_pid,omitempty"`
	// What each direction has moved so far, and its rate since the last
	// look (bytes per second), as the kernel counts the session's TCP
	// socket (TLS: the records' bytes).
	OrigSoFar *uint64  `json:"orig_bytes_so_far,omitempty"`
	RespSoFar *uint64  `json:"resp_bytes_so_far,omitempty"`
	OrigRate  *float64 `json:"orig_rate,omitempty"`
	RespRate  *float64 `json:"resp_rate,omitempty"`

	close   func()
	inbound bool // accepted: sockit's socket is the responder's end
	local   netip.AddrPort
	remote  netip.AddrPort
	last    struct {
		at         time.Time
		orig, resp uint64
	}
}

func (l *live) observe(e events.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sessions == nil {
		l.sessions = map[string]*liveSession{}
	}
	s := l.sessions[e.UID]
	switch e.Kind {
	case events.Accepted, events.Connected:
		if s != nil || e.UID == "" {
			return // a relay's second leg: the session is in already
		}
		if len(l.sessions) >= maxLive {
			if l.omitted == nil {
				l.omitted = map[string]bool{}
			}
			l.omitted[e.UID] = true
			return
		}
		s = &liveSession{UID: e.UID, Proto: e.Proto, Local: e.Local, Remote: e.Remote, CommunityID: e.CommunityID, Start: e.Time, close: e.Close,
			inbound: e.Kind == events.Accepted}
		if e.Orig.IsValid() {
			s.Orig, s.Resp = e.Orig.String(), e.Resp.String()
			o, r := netip.AddrPortFrom(e.Orig.Addr().Unmap(), e.Orig.Port()), netip.AddrPortFrom(e.Resp.Addr().Unmap(), e.Resp.Port())
			s.local, s.remote = o, r
			if s.inbound {
				s.local, s.remote = r, o
			}
		}
		l.sessions[e.UID] = s
	case events.TLS:
		if s != nil {
			s.TLS = e.TLSVersion + " " + e.Cipher
		}
	case events.ChildStarted:
		if s != nil {
			s.ChildPID = e.PID
		}
	case events.HalfClose:
		if s != nil {
			n := e.Bytes
			if e.Dir == events.Orig {
				s.OrigDone, s.OrigBytes = true, &n
			} else {
				s.RespDone, s.RespBytes = true, &n
			}
		}
	case events.Closed:
		delete(l.omitted, e.UID)
		delete(l.sessions, e.UID)
	}
}

// ServeHTTP is /api/sessions: the sessions open now, oldest first.
func (l *live) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	counts, _ := tcpSockets() // none: the counts come at each direction's end
	now := time.Now()
	l.mu.Lock()
	rows := make([]liveSession, 0, len(l.sessions))
	for _, s := range l.sessions {
		if c, ok := counts[[2]netip.AddrPort{s.local, s.remote}]; ok && s.Proto == "tcp" {
			orig, resp := c.received, c.sent // the client's bytes reach sockit's end
			if !s.inbound {
				orig, resp = c.sent, c.received
			}
			if !s.last.at.IsZero() {
				if dt := now.Sub(s.last.at).Seconds(); dt > 0 {
					or, rr := float64(orig-min(orig, s.last.orig))/dt, float64(resp-min(resp, s.last.resp))/dt
					s.OrigRate, s.RespRate = &or, &rr
				}
			}
			s.last.at, s.last.orig, s.last.resp = now, orig, resp
			s.OrigSoFar, s.RespSoFar = &orig, &resp
		}
		row := *s
		row.AgeSeconds = now.Sub(s.Start).Seconds()
		rows = append(rows, row)
	}
	omitted := len(l.omitted)
	l.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i].Start.Before(rows[j].Start) })
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct { //nolint:errcheck // the client went away
		Sessions []liveSession `json:"sessions"`
		Omitted  int           `json:"omitted,omitempty"`
		Control  bool          `json:"control"`
	}{rows, omitted, l.control})
}

// closeSession is POST /api/sessions/{uid}/close: the session ends, when
// the monitor was started with control.
func (l *live) closeSession(w http.ResponseWriter, r *http.Request) {
	if !l.control {
		http.Error(w, "closing sessions needs --monitor-allow-control", http.StatusForbidden)
		return
	}
	l.mu.Lock()
	s := l.sessions[r.PathValue("uid")]
	var close func()
	if s != nil {
		close = s.close
	}
	l.mu.Unlock()
	if close == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	close()
	w.WriteHeader(http.StatusNoContent)
}

// fanout sends every event to the /api/events clients as Server-Sent
// Events. Each client has a bounded queue: one that falls behind loses
// events, and is told how many, rather than slow a session.
type fanout struct {
	mu      sync.Mutex
	clients map[*sseClient]struct{}
}

type sseClient struct {
	lines   chan []byte
	dropped atomic.Int64
}

// sseQueue is how many events a slow client may have waiting.
const sseQueue = 1024

func (f *fanout) observe(e events.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.clients) == 0 {
		return
	}
	line, err := events.Marshal(e)
	if err != nil {
		return
	}
	for c := range f.clients {
		select {
		case c.lines <- line:
		default:
			c.dropped.Add(1)
		}
	}
}

// ServeHTTP is /api/events: the NDJSON events, one SSE message each,
// until the client goes.
func (f *fanout) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	c := &sseClient{lines: make(chan []byte, sseQueue)}
	f.mu.Lock()
	if f.clients == nil {
		f.clients = map[*sseClient]struct{}{}
	}
	f.clients[c] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.clients, c)
		f.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, ": sockit events, schema docs/events.md\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case line := <-c.lines:
			if n := c.dropped.Swap(0); n > 0 {
				fmt.Fprintf(w, "event: dropped\ndata: {\"dropped\":%d}\n\n", n)
			}
			if _, err := fmt.Fprintf(w, "data: %s\n\n", line); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
