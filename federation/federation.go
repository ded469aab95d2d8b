// Package federation joins broker and chat rooms (package hub) of several
// processes, on one machine or many, into one room over NATS.
//
// Every room on the same NATS server (or cluster) and room name is one
// room: a message a client of one broker says reaches every client of
// every broker once, each sender's bytes in their order (NATS keeps a
// publisher's order), never back to the broker it came from (the
// connection asks NATS for no echo). In chat, ids carry the broker's
// node name (<user5@a>) so they never collide, join and leave notices
// cross the bus, "already connected" lists the whole room, and each
// broker's heartbeat keeps the others' view of it: a broker silent for
// three heartbeats is announced as gone.
//
// What stays local: the slow-reader policy. A slow client of one broker
// never slows another or the bus; a broker whose room cannot keep up
// with the bus has NATS drop what its bounded subscription cannot hold,
// and counts it. Core NATS delivers at most once: while the bus is away
// the room goes on locally, and what is said meanwhile stays local: it
// is counted as dropped, never buffered for a later that the other
// brokers' subscriptions might not be back for.
package federation

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/sockit/sockit/hub"
)

// Defaults for Options.
const (
	DefaultRoom      = "sockit"
	DefaultHeartbeat = time.Second
	// silentBeats is how many heartbeats a node may miss before the
	// others announce it gone.
	silentBeats = 3
	// pendingBytes and pendingMsgs bound what waits for a room that
	// cannot keep up with the bus; past them NATS drops, and we count.
	pendingBytes = 8 << 20
	pendingMsgs  = 1 << 16
	// outBytes and outMsgs bound what waits to be published: the room
	// never waits for the bus; past them a message stays local, counted.
	outBytes = 8 << 20
	outMsgs  = 1 << 14
	// maxListedRemote bounds the members a heartbeat carries.
	maxListedRemote = 1000
	hdrNode         = "Sockit-Node"
)

// Options configure a Room.
type Options struct {
	// URL names the NATS server(s): nats://[USER:PASS@]HOST:PORT or
	// tls://..., several separated by commas.
	URL string
	// Room is the room's name on the bus; "" is DefaultRoom.
	Room string
	// Node is this broker's name in chat ids (<user5@NODE>), unique in
	// the room: a broker that finds its name taken says so (Logf) and
	// leaves the bus.
	Node string
	// Creds is a NATS credentials file (JWT and NKey seed), if any.
	Creds string
	// TLS, if set, is used for tls:// servers; nil verifies them against
	// the system's roots, as every TLS client of sockit does.
	TLS *tls.Config
	// Heartbeat is how often this broker tells the room it is there; 0
	// is DefaultHeartbeat.
	Heartbeat time.Duration
	// Logf hears one line per change of the bus: connected, lost,
	// reconnected, a node gone. nil is silent.
	Logf func(format string, args ...any)
}

// Stats count a room's traffic over the bus, apart from its local
// traffic.
type Stats struct {
	Sent         int64 // messages published to the bus
	SendDropped  int64 // messages that could not be published (bus away, buffer full)
	Received     int64 // messages from other brokers, handed to the local room
	RecvDropped  int64 // messages NATS dropped because this room fell behind
	Nodes        int   // other brokers heard from lately
	Connected    bool
	Reconnects   int64
	Disconnected int64
}

// Room is this broker's membership in a federated room.
type Room struct {
	opt      Options
	nc       *nats.Conn
	instance string // this run of the broker
	msgs     string // subjects
	presence string

	mu     sync.Mutex
	hub    *hub.Hub
	local  map[string]string // chat: id → entry, this broker's members
	nodes  map[string]*node  // by instance: the others
	closed bool

	sent, sendDropped, received, reconnects, disconnects atomic.Int64
	msgSub                                               *nats.Subscription
	done                                                 chan struct{}
	wg                                                   sync.WaitGroup

	out      chan []byte  // messages for the bus, published by one goroutine
	outQueue atomic.Int64 // bytes in out
}

// node is another broker as this one knows it.
type node struct {
	name    string
	seen    time.Time
	members map[string]string // id → entry
}

// presence is one message on the presence subject.
type presence struct {
	Kind     string   `json:"kind"` // "hb", "join", "leave", "bye"
	Node     string   `json:"node"`
	Instance string   `json:"instance"`
	ID       string   `json:"id,omitempty"`
	Entry    string   `json:"entry,omitempty"`
	Members  []member `json:"members,omitempty"` // the first maxListedRemote: a join notice lists no more
}

type member struct {
	ID    string `json:"id"`
	Entry string `json:"entry"`
}

// ErrNodeTaken is why Start fails when another broker in the room
// already has this node name.
var ErrNodeTaken = errors.New("node name taken")

// Dial connects to the bus. A server that does not answer yet is tried
// again, with backoff, as is one that goes away later; meanwhile the
// room is local. Dial fails only for a URL or credentials it cannot use.
func Dial(opt Options) (*Room, error) {
	if opt.Room == "" {
		opt.Room = DefaultRoom
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = DefaultHeartbeat
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	if strings.ContainsAny(opt.Room, " .*>\t") {
		return nil, fmt.Errorf("room %q: a name without spaces, dots, * or >", opt.Room)
	}
	r := &Room{opt: opt, instance: nuid.Next(), local: map[string]string{}, nodes: map[string]*node{},
		msgs: "sockit.room." + opt.Room + ".msg", presence: "sockit.room." + opt.Room + ".presence", done: make(chan struct{}),
		out: make(chan []byte, outMsgs)}
	nopts := []nats.Option{
		nats.Name("sockit " + opt.Node),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.ReconnectBufSize(-1), // while the bus is away, a publish fails at once: counted, not claimed
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			return min(time.Duration(attempts)*250*time.Millisecond, 5*time.Second)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			r.disconnects.Add(1)
			if err != nil {
				opt.Logf("federation: lost the bus (%v); the room goes on here, reconnecting", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			r.reconnects.Add(1)
			opt.Logf("federation: back on the bus at %s", nc.ConnectedUrlRedacted())
			r.heartbeat()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				return // counted from the subscription's Dropped
			}
			opt.Logf("federation: %v", err)
		}),
	}
	if opt.Creds != "" {
		nopts = append(nopts, nats.UserCredentials(opt.Creds))
	}
	if opt.TLS != nil {
		nopts = append(nopts, nats.Secure(opt.TLS))
	}
	nc, err := nats.Connect(opt.URL, nopts...)
	if err != nil && !refused(err) {
		return nil, fmt.Errorf("federation %s: %w", redact(opt.URL), err) // credentials, certificates, the URL: trying again would not help
	}
	if err != nil {
		// Not up yet: a broker started before its bus serves locally
		// meanwhile, and joins when the bus answers.
		opt.Logf("federation: %s is not answering yet (%v); the room is local until it does", redact(opt.URL), err)
		if nc, err = nats.Connect(opt.URL, append(nopts, nats.RetryOnFailedConnect(true))...); err != nil {
			return nil, fmt.Errorf("federation %s: %w", redact(opt.URL), err)
		}
	}
	r.nc = nc
	return r, nil
}

// refused says whether a first connection failed only for want of a
// server (refused, timed out), not for what was asked of it.
func refused(err error) bool {
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
		return false
	}
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var cve *tls.CertificateVerificationError
	if errors.As(err, &uae) || errors.As(err, &he) || errors.As(err, &cve) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return !strings.Contains(msg, "authorization") && !strings.Contains(msg, "certificate") && !strings.Contains(msg, "tls")
}

// URL is the server the room is connected to (or, while it is away, the
// one it was given), its password hidden.
func (r *Room) URL() string {
	if u := r.nc.ConnectedUrlRedacted(); u != "" {
		return u
	}
	return redact(r.opt.URL)
}

// redact hides a password in a server URL.
func redact(u string) string {
	if at := strings.LastIndex(u, "@"); at >= 0 {
		if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
			return u[:scheme+3] + "***@" + u[at+1:]
		}
	}
	return u
}

// Forward is the room's hub.Options.Forward: what a local client says,
// for the other brokers. It never waits: the message is queued for the
// publishing goroutine, or, when the queue is full (the bus is slower
// than the room), kept local and counted.
func (r *Room) Forward(p []byte) {
	if r.outQueue.Load()+int64(len(p)) > outBytes {
		r.sendDropped.Add(1)
		return
	}
	r.outQueue.Add(int64(len(p)))
	select {
	case r.out <- append([]byte(nil), p...): // p is the hub's only during the call
	default:
		r.outQueue.Add(-int64(len(p)))
		r.sendDropped.Add(1)
	}
}

// publishing publishes what Forward queued until Close.
func (r *Room) publishing() {
	for {
		select {
		case <-r.done:
			return
		case p := <-r.out:
			r.outQueue.Add(-int64(len(p)))
			m := nats.NewMsg(r.msgs)
			m.Data = p
			m.Header.Set(hdrNode, r.instance)
			if err := r.nc.PublishMsg(m); err != nil {
				r.sendDropped.Add(1)
				continue
			}
			r.sent.Add(1)
		}
	}
}

// Presence is the room's hub.Options.Presence: a local chat member came
// or went.
func (r *Room) Presence(joined bool, id, entry string) {
	r.mu.Lock()
	kind := "leave"
	if joined {
		kind = "join"
		r.local[id] = entry
	} else {
		delete(r.local, id)
	}
	r.mu.Unlock()
	r.publish(presence{Kind: kind, ID: id, Entry: entry})
}

// Others is the room's hub.Options.Others: the other brokers' members,
// for a join notice.
func (r *Room) Others() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.nodes {
		for _, e := range n.members {
			out = append(out, e) // a heartbeat lists 1,000 per broker at most
		}
	}
	slices.Sort(out)
	return out
}

// Start hands the bus's messages to h, the local room made with this
// Room's Forward (and, in chat, Presence and Others), and starts the
// heartbeat. In chat it first asks the room whether the node name is
// free.
func (r *Room) Start(h *hub.Hub, chat bool) error {
	r.mu.Lock()
	r.hub = h
	r.mu.Unlock()
	sub, err := r.nc.Subscribe(r.msgs, func(m *nats.Msg) {
		r.received.Add(1)
		h.Inject(m.Data)
	})
	if err != nil {
		return fmt.Errorf("federation: subscribe: %w", err)
	}
	sub.SetPendingLimits(pendingMsgs, pendingBytes) //nolint:errcheck // valid limits on a fresh subscription
	r.msgSub = sub
	r.wg.Go(r.publishing)
	if chat {
		if err := r.startPresence(); err != nil {
			sub.Unsubscribe() //nolint:errcheck // the connection closes next
			return err
		}
	}
	r.nc.Flush() //nolint:errcheck // the subscription is in place once the server has it; a lost bus resubscribes
	return nil
}

// startPresence subscribes to presence, checks the node name, and runs
// the heartbeat.
func (r *Room) startPresence() error {
	taken := make(chan string, 1)
	if _, err := r.nc.Subscribe(r.presence, func(m *nats.Msg) { r.heard(m.Data, taken) }); err != nil {
		return fmt.Errorf("federation: subscribe: %w", err)
	}
	// Who is there: every broker answers a heartbeat with its own.
	r.publish(presence{Kind: "hello"})
	select {
	case other := <-taken:
		return fmt.Errorf("federation: %w: %q is the node name of another broker in room %q (%s); give this one another with --federate-node", ErrNodeTaken, r.opt.Node, r.opt.Room, other)
	case <-time.After(min(r.opt.Heartbeat, 500*time.Millisecond)):
	}
	r.wg.Go(func() {
		t := time.NewTicker(r.opt.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-r.done:
				return
			case <-t.C:
				r.heartbeat()
				r.expire()
			}
		}
	})
	return nil
}

// heard takes one presence message from another broker.
func (r *Room) heard(b []byte, taken chan<- string) {
	var p presence
	if json.Unmarshal(b, &p) != nil || p.Instance == r.instance {
		return
	}
	if p.Node == r.opt.Node {
		if p.Kind == "hello" {
			r.heartbeat() // the newcomer with our name learns it is taken
			return
		}
		select {
		case taken <- p.Instance:
		default:
		}
		return
	}
	var announce []string
	r.mu.Lock()
	n := r.nodes[p.Instance]
	if n == nil && p.Kind != "bye" {
		n = &node{name: p.Node, members: map[string]string{}}
		r.nodes[p.Instance] = n
	}
	if n != nil {
		n.seen = time.Now()
	}
	switch p.Kind {
	case "hello":
		r.mu.Unlock()
		r.heartbeat() // the newcomer learns who is here
		return
	case "hb":
		n.members = map[string]string{}
		for _, m := range p.Members {
			n.members[m.ID] = m.Entry
		}
	case "join":
		n.members[p.ID] = p.Entry
		announce = append(announce, fmt.Sprintf("<announce> %s is connected as %s.\n", strings.TrimSuffix(p.Entry, " as "+p.ID), p.ID))
	case "leave":
		delete(n.members, p.ID)
		announce = append(announce, fmt.Sprintf("<announce> %s is disconnected.\n", p.ID))
	case "bye":
		if n != nil {
			announce = gone(n)
			delete(r.nodes, p.Instance)
		}
	}
	h := r.hub
	r.mu.Unlock()
	for _, a := range announce {
		if h != nil {
			h.Inject([]byte(a))
		}
	}
}

// gone is what a room hears of a node's members when the node is gone.
func gone(n *node) []string {
	ids := make([]string, 0, len(n.members))
	for id := range n.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, fmt.Sprintf("<announce> %s is disconnected.\n", id))
	}
	return out
}

// expire announces the members of brokers silent for too long.
func (r *Room) expire() {
	var announce []string
	r.mu.Lock()
	for inst, n := range r.nodes {
		if time.Since(n.seen) > silentBeats*r.opt.Heartbeat {
			r.opt.Logf("federation: node %s fell silent; its %d members are announced gone", n.name, len(n.members))
			announce = append(announce, gone(n)...)
			delete(r.nodes, inst)
		}
	}
	h := r.hub
	r.mu.Unlock()
	for _, a := range announce {
		h.Inject([]byte(a))
	}
}

// heartbeat tells the room this broker is here, with its members.
func (r *Room) heartbeat() {
	r.mu.Lock()
	p := presence{Kind: "hb"}
	ids := make([]string, 0, len(r.local))
	for id := range r.local {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids[:min(len(ids), maxListedRemote)] {
		p.Members = append(p.Members, member{ID: id, Entry: r.local[id]})
	}
	r.mu.Unlock()
	r.publish(p)
}

func (r *Room) publish(p presence) {
	p.Node, p.Instance = r.opt.Node, r.instance
	b, _ := json.Marshal(p)     // nothing in a presence fails to marshal
	r.nc.Publish(r.presence, b) //nolint:errcheck // the heartbeat says it again
}

// Stats reports the room's bus traffic.
func (r *Room) Stats() Stats {
	var dropped int64
	if r.msgSub != nil {
		if n, err := r.msgSub.Dropped(); err == nil {
			dropped = int64(n)
		}
	}
	r.mu.Lock()
	nodes := len(r.nodes)
	r.mu.Unlock()
	return Stats{
		Sent: r.sent.Load(), SendDropped: r.sendDropped.Load(), Received: r.received.Load(), RecvDropped: dropped,
		Nodes: nodes, Connected: r.nc.IsConnected(), Reconnects: r.reconnects.Load(), Disconnected: r.disconnects.Load(),
	}
}

// Close says goodbye to the room and leaves the bus.
func (r *Room) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	r.wg.Wait()
	r.publish(presence{Kind: "bye"})
	r.nc.Flush() //nolint:errcheck // best effort: silence says the same, later
	r.nc.Close()
	return nil
}
