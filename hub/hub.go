// Package hub is the room behind ncat's --broker and --chat: whatever one
// client sends goes to every other client.
//
// A hub costs little per idle client. On Linux a client's socket waits in
// the hub's own epoll set, so an idle client has no goroutine and no read
// buffer: a buffer is borrowed from a pool only while bytes are in hand,
// and nothing else is allocated until the client falls behind. Conns
// without a socket of their own (TLS) get a reading goroutine each.
//
// Delivery never blocks on a client. A message is written straight to
// each socket without waiting; what a socket cannot take is queued, and
// one writer goroutine per lagging client drains its queue. Queued
// messages are shared among the clients that wait for them, so a room's
// memory is bounded by the longest queue, not by the number of clients.
// Senders pause while a client has been behind for less than the grace
// period, so a room whose readers are merely busy runs at their pace; a
// client still behind after the grace is left behind, and one whose queue
// passes the backlog limit is disconnected with a log line. The clients
// that keep up are never slowed for longer than the grace, and each
// sender's bytes reach each client in the order they were sent.
//
// Messages enter a room through Join (a client) and Feed (any reader,
// such as stdin). Several processes can share one room: Options.Forward
// hands each message a local client says to the caller, framed as the
// clients hear it, and Inject delivers a message from elsewhere to every
// local client. Linking each process's Forward to the others' Inject (over
// any stream) makes one room of them; give each process its own FirstID
// range so that chat ids stay apart.
package hub

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sockit/sockit/stream"
)

// Defaults for Options.
const (
	DefaultBacklog = 1 << 20                // bytes queued for one client before it is cut off
	DefaultGrace   = 250 * time.Millisecond // how long senders wait for a lagging client
	// bufSize is the most read from a client at once.
	bufSize = 64 << 10
	// maxPartial is the longest unfinished chat line held back waiting
	// for its newline; a longer one goes out as it is.
	maxPartial = 4 << 10
	// maxListed bounds the "already connected" list of a chat join notice.
	maxListed = 1000
)

// Options configure a Hub.
type Options struct {
	// Chat selects ncat's chat protocol: every line goes out prefixed
	// with its sender's id ("<user5> "), control characters escaped, and
	// joins and leaves are announced. Otherwise the hub is a broker and
	// bytes go out as they came.
	Chat bool
	// FirstID is the id of the first client (ncat numbers clients by
	// their file descriptor, so its first is 4 or 5). Ids are reused
	// lowest first, as descriptors are. Feed's messages are from id 0.
	FirstID int
	// Backlog is how many bytes may wait for one client before it is
	// disconnected; 0 means DefaultBacklog.
	Backlog int
	// Grace is how long senders pause for a client that is behind before
	// going on without it; 0 means DefaultGrace.
	Grace time.Duration
	// Logf, if set, receives one line per client cut off.
	Logf func(format string, args ...any)
	// Forward, if set, receives every message a local client (or Feed)
	// says, as the room hears it, for another process's Inject. It runs
	// on the sender's turn, so it should hand p off quickly; p is valid
	// only during the call. Join and leave notices stay local.
	Forward func(p []byte)
	// Mute makes clients listeners only: what they send is read and
	// thrown away, and only Feed and Inject speak (ncat's --broker
	// --send-only).
	Mute bool
	// Node, when set, names this process's room in chat ids
	// (<user5@Node>), so that the ids of rooms joined into one (package
	// federation) never collide.
	Node string
	// Others, if set, lists the members of the other processes' rooms,
	// each as "ADDRESS as <userN@NODE>", for a chat join notice's
	// "already connected".
	Others func() []string
	// Presence, if set, hears each local chat member join (true) and
	// leave, with its id and its join-notice entry, after the room has
	// announced it.
	Presence func(joined bool, id, entry string)
}

// Hub is one room. Its methods may be called from many goroutines.
type Hub struct {
	opt  Options
	bufs sync.Pool // *[]byte of bufSize: read buffers, held only while bytes are in hand

	mu      sync.RWMutex // guards members, ids and closed; held for reading while a message goes out
	members []*member
	ids     idHeap // ids freed by clients that left
	nextID  int
	closed  bool

	poll *poller        // the epoll set that reads idle sockets; nil where there is none
	wg   sync.WaitGroup // reading goroutines and leaves in flight

	queued  atomic.Int64 // bytes waiting in every member's queue
	lagging atomic.Int64 // members with a queue
	cut     atomic.Int64 // members cut off for passing the backlog

	lagMu   sync.Mutex
	behind  int           // clients behind and still within their grace
	drained chan struct{} // closed when behind drops to 0
	done    chan struct{} // closed by Close
}

// New returns an empty room.
func New(opt Options) *Hub {
	if opt.Backlog <= 0 {
		opt.Backlog = DefaultBacklog
	}
	if opt.Grace <= 0 {
		opt.Grace = DefaultGrace
	}
	h := &Hub{opt: opt, nextID: opt.FirstID, done: make(chan struct{})}
	h.bufs.New = func() any { b := make([]byte, bufSize); return &b }
	h.poll = newPoller(h) // nil if the system has none: every client gets a goroutine
	return h
}

// ErrClosed is returned by Join for a client that arrives after Close.
var ErrClosed = errors.New("hub closed")

// ErrSlowReader is why a client was cut off (Join's left hears it,
// wrapped with how far behind it was): more bytes waited for it than the
// backlog allows.
var ErrSlowReader = errors.New("cut off: it reads slower than the room speaks")

// Len reports how many clients are in the room.
func (h *Hub) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.members)
}

// Stats is a room's state at one moment, for metrics.
type Stats struct {
	Clients int   // in the room now
	Lagging int   // clients with bytes queued for them: behind the room
	Queued  int64 // bytes queued for the lagging clients, once per client that waits for them
	CutOff  int64 // clients disconnected for passing the backlog, since New
}

// Stats reports how the room is doing. It reads counters and shares
// the room's read lock with the messages going out, so a metrics scrape
// does not hold up a room.
func (h *Hub) Stats() Stats {
	return Stats{Clients: h.Len(), Lagging: int(h.lagging.Load()), Queued: h.queued.Load(), CutOff: h.cut.Load()}
}

// Join adds c to the room and returns at once. The hub relays what c
// sends until the client leaves: its stream ends (a half-close included,
// as in ncat), fails or is cut off, or the hub closes. Then the hub closes
// c and calls left, if not nil, with the reason (nil for an ordinary end
// of stream). Join fails only once the hub is closed; it closes c then,
// and does not call left.
func (h *Hub) Join(c stream.Conn, left func(error)) error {
	m := &member{h: h, conn: c, left: left, fd: -1}
	h.poll.adopt(m) // sets m.fd when the socket can be read and written without blocking
	if err := h.join(m); err != nil {
		c.Close()
		return err
	}
	if m.fd < 0 {
		go func() { // counted in h.wg by join
			defer h.wg.Done()
			err := m.readConn()
			m.flushPartial()
			h.leave(m, err)
		}()
		return nil
	}
	if err := h.poll.add(m); err != nil {
		h.logCut(m, fmt.Sprintf("epoll: %v", err))
		m.mu.Lock()
		m.fail() // and leave
		m.mu.Unlock()
	}
	return nil
}

// Feed sends what r yields to every client, as from id 0, until r ends.
func (h *Hub) Feed(r io.Reader) error {
	src := &member{h: h, id: 0, feed: true, fd: -1}
	buf := make([]byte, bufSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			src.said(buf[:n])
		}
		if err == io.EOF {
			src.flushPartial()
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-h.done:
			return ErrClosed
		default:
		}
	}
}

// Close disconnects every client and returns once they are gone; later
// Joins are refused.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.done)
	ms := slices.Clone(h.members)
	h.mu.Unlock()
	for _, m := range ms {
		m.mu.Lock()
		m.fail()
		m.mu.Unlock()
	}
	h.wg.Wait()
	h.poll.close()
	return nil
}

func (h *Hub) join(m *member) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	if h.ids.Len() > 0 {
		m.id = heap.Pop(&h.ids).(int)
	} else {
		m.id = h.nextID
		h.nextID++
	}
	m.idx = len(h.members)
	h.members = append(h.members, m)
	if m.fd < 0 {
		h.wg.Add(1) // its reading goroutine; here, so that Close waits for it
	}
	if h.opt.Chat {
		// Under the write lock, so that the notice is the first thing
		// the new client hears and nobody joins in between.
		h.sendAll(nil, h.joinNotice(m))
		if h.opt.Presence != nil {
			h.opt.Presence(true, h.ID(m.id), h.entry(m))
		}
	}
	return nil
}

// leave takes m out of the room, once, and tells the others.
func (h *Hub) leave(m *member, why error) {
	h.mu.Lock()
	if m.idx < 0 {
		h.mu.Unlock()
		return
	}
	last := len(h.members) - 1
	h.members[m.idx] = h.members[last]
	h.members[m.idx].idx = m.idx
	h.members[last] = nil
	h.members = h.members[:last]
	m.idx = -1
	heap.Push(&h.ids, m.id)
	if len(h.members) == 0 {
		h.members = nil // let a room that emptied give its array back
	}
	closed := h.closed
	h.mu.Unlock()

	m.mu.Lock()
	if !m.gone {
		m.gone = true
		m.dropQueue()
		h.poll.remove(m)
		m.conn.Close()
	}
	if why == nil {
		why = m.why
	}
	m.mu.Unlock()
	if h.opt.Chat && !closed {
		h.broadcast(nil, fmt.Appendf(nil, "<announce> %s is disconnected.\n", h.ID(m.id)))
		if h.opt.Presence != nil {
			h.opt.Presence(false, h.ID(m.id), "")
		}
	}
	if m.left != nil {
		m.left(why)
	}
}

// spoke relays what from said (nil: Feed) to the room and to Forward.
func (h *Hub) spoke(from *member, p []byte) {
	h.broadcast(from, p)
	if h.opt.Forward != nil {
		h.opt.Forward(p)
	}
}

// Inject sends p to every client of this room, as it is: a message that
// another process's room forwarded. It is not forwarded again.
func (h *Hub) Inject(p []byte) {
	h.broadcast(nil, p)
}

// broadcast sends p to every client but from, then waits while a client
// is behind within its grace, so that a busy room runs at its readers'
// pace. p is not kept.
func (h *Hub) broadcast(from *member, p []byte) {
	h.mu.RLock()
	h.sendAll(from, p)
	h.mu.RUnlock()
	h.waitBehind()
}

// sendAll sends p to every client but from; h.mu is held.
func (h *Hub) sendAll(from *member, p []byte) {
	var shared []byte // p's copy for the queues, made at most once
	for _, m := range h.members {
		if m != from {
			m.send(p, &shared)
		}
	}
}

// addBehind counts clients behind within their grace.
func (h *Hub) addBehind(d int) {
	h.lagMu.Lock()
	h.behind += d
	if h.behind == 0 && h.drained != nil {
		close(h.drained)
		h.drained = nil
	}
	h.lagMu.Unlock()
}

func (h *Hub) waitBehind() {
	h.lagMu.Lock()
	if h.behind == 0 {
		h.lagMu.Unlock()
		return
	}
	if h.drained == nil {
		h.drained = make(chan struct{})
	}
	ch := h.drained
	h.lagMu.Unlock()
	select {
	case <-ch:
	case <-h.done:
	}
}

// logCut reports a client the hub disconnects, and why.
func (h *Hub) logCut(m *member, why string) {
	if h.opt.Logf != nil {
		h.opt.Logf("cut off %s: %s", m, why)
	}
}

// idHeap is a min-heap of free client ids.
type idHeap []int

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
