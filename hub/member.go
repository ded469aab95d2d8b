package hub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/sockit/sockit/stream"
)

// member is one client of a room. An idle member is this struct, its
// conn and its place in the epoll set; the queue, the writer goroutine and
// the grace timer exist only while it is behind.
type member struct {
	h    *Hub
	id   int
	idx  int // position in h.members; -1 once it left
	conn stream.Conn
	left func(error)
	feed bool // Feed's pseudo-client: it speaks, it never hears

	// fd is the socket's descriptor when the hub reads it from its epoll
	// set and writes it without blocking; -1 for TLS and other wrapped
	// conns, which a goroutine reads and the writer writes. It is used
	// only under mu while !gone, and the conn is closed only under mu
	// after gone is set, so it never names a reused descriptor.
	fd   int
	slot int32 // the member's index in the poller

	partial []byte // chat: the start of a line whose newline has not come; touched by the reader only

	mu      sync.Mutex
	queue   [][]byte // what the socket could not take yet, oldest first
	queued  int      // bytes in queue and in the writer's hands
	writing bool     // the writer goroutine runs
	behind  bool     // counted in h.behind: senders wait for it
	grace   *time.Timer
	episode int // counts falls behind, so that a stale grace timer does nothing
	gone    bool
	why     error // why the hub disconnected it, if it did
}

func (m *member) String() string {
	addr := "unknown"
	if a := m.conn.RemoteAddr(); a != nil && a.String() != "" {
		addr = a.String()
	}
	if m.h.opt.Chat {
		return fmt.Sprintf("<user%d> (%s)", m.id, addr)
	}
	return addr
}

// peerName is how a chat notice names a client: its address, as ncat.
func peerName(c stream.Conn) string {
	a := c.RemoteAddr()
	switch a := a.(type) {
	case nil:
		return "unknown"
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UnixAddr:
		if a.Name == "" || a.Name == "@" {
			return "localhost" // an unbound Unix peer has no name; ncat says so
		}
		return a.Name
	}
	return a.String()
}

// readConn relays what a conn without a pollable descriptor (TLS) sends,
// until its stream ends; it holds a buffer while it waits.
func (m *member) readConn() error {
	buf := make([]byte, 16<<10)
	for {
		n, err := m.conn.Read(buf)
		if n > 0 {
			m.said(buf[:n])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return ignoreClosed(err)
		}
	}
}

// ignoreClosed maps the error of a conn closed by the hub (cut off, or
// the hub closing) to nil: that end was the hub's doing and is logged.
func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// said sends what the member sent to everyone else: as it is in a
// broker, as whole lines with its id in a chat.
func (m *member) said(p []byte) {
	if m.h.opt.Mute && !m.feed {
		return
	}
	if !m.h.opt.Chat {
		m.h.spoke(m.self(), p)
		return
	}
	end := bytes.LastIndexByte(p, '\n')
	if end < 0 {
		m.partial = append(m.partial, p...)
		if len(m.partial) >= maxPartial {
			m.flushPartial()
		}
		return
	}
	var out []byte
	if len(m.partial) > 0 {
		line := append(m.partial, p[:end+1]...)
		out = appendChat(nil, m.id, m.h.opt.Node, line)
		m.partial = nil
	} else {
		bp := m.h.bufs.Get().(*[]byte)
		defer m.h.bufs.Put(bp)
		out = appendChat((*bp)[:0], m.id, m.h.opt.Node, p[:end+1])
	}
	m.h.spoke(m.self(), out)
	if rest := p[end+1:]; len(rest) > 0 {
		m.partial = append([]byte(nil), rest...)
	}
}

// self is the member as a sender: Feed's pseudo-member is in no list.
func (m *member) self() *member {
	if m.feed {
		return nil
	}
	return m
}

// flushPartial sends a held-back chat line as it is.
func (m *member) flushPartial() {
	if len(m.partial) == 0 {
		return
	}
	out := appendChat(nil, m.id, m.h.opt.Node, m.partial)
	m.partial = nil
	m.h.spoke(m.self(), out)
}

// send delivers p to m: straight to the socket when nothing is queued,
// else (or for what the socket would not take) onto the queue, sharing
// *shared, a copy of p made once per message for all the queues.
func (m *member) send(p []byte, shared *[]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return
	}
	off := 0
	if len(m.queue) == 0 && !m.writing && m.fd >= 0 {
		n, err := writeNow(m.fd, p)
		if err != nil {
			m.fail()
			return
		}
		if n == len(p) {
			return
		}
		off = n
	}
	if m.queued+len(p)-off > m.h.opt.Backlog {
		m.h.cut.Add(1)
		m.h.logCut(m, fmt.Sprintf("%d bytes waiting, more than the backlog of %d (it reads slower than the room speaks)",
			m.queued+len(p)-off, m.h.opt.Backlog))
		m.why = fmt.Errorf("%w (%d bytes waiting, backlog %d)", ErrSlowReader, m.queued+len(p)-off, m.h.opt.Backlog)
		// Reset it: what the kernel holds for it would take as long to
		// drain as the client is slow, and it could be megabytes.
		if l, ok := m.conn.(interface{ SetLinger(int) error }); ok {
			l.SetLinger(0) //nolint:errcheck // a plain close is the fallback
		}
		m.fail()
		return
	}
	if *shared == nil {
		*shared = append([]byte(nil), p...)
	}
	m.queue = append(m.queue, (*shared)[off:])
	m.addQueued(len(p) - off)
	if !m.writing {
		m.writing = true
		m.h.lagging.Add(1)
		m.behind = true
		m.h.addBehind(1)
		m.episode++
		ep := m.episode
		m.grace = time.AfterFunc(m.h.opt.Grace, func() { m.leftBehind(ep) })
		go m.writeLoop()
	}
}

// leftBehind ends the senders' wait for m once its grace has run out:
// the room goes on, and m catches up or passes the backlog.
func (m *member) leftBehind(episode int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.behind && m.episode == episode {
		m.behind = false
		m.h.addBehind(-1)
	}
}

// writeLoop drains m's queue, then ends.
func (m *member) writeLoop() {
	for {
		m.mu.Lock()
		if m.gone || len(m.queue) == 0 {
			m.writing = false
			m.h.lagging.Add(-1)
			m.dropQueue()
			m.mu.Unlock()
			return
		}
		batch := net.Buffers(m.queue)
		m.queue = nil
		m.mu.Unlock()

		n, err := batch.WriteTo(m.conn)

		m.mu.Lock()
		if !m.gone { // else dropQueue has forgotten the batch already
			m.addQueued(-int(n))
		}
		if err != nil {
			m.fail()
		}
		m.mu.Unlock()
	}
}

// dropQueue forgets what waits for m and stops the senders waiting for
// it; m.mu is held.
func (m *member) dropQueue() {
	m.queue = nil
	m.addQueued(-m.queued)
	if m.grace != nil {
		m.grace.Stop()
		m.grace = nil
	}
	if m.behind {
		m.behind = false
		m.h.addBehind(-1)
	}
}

// addQueued counts n more bytes (fewer, if negative) waiting for m, in
// m and in the room's total; m.mu is held.
func (m *member) addQueued(n int) {
	m.queued += n
	m.h.queued.Add(int64(n))
}

// fail disconnects m and has it leave the room. m.mu is held.
func (m *member) fail() {
	if m.gone {
		return
	}
	m.gone = true
	m.dropQueue()
	m.h.poll.remove(m)
	m.conn.Close() // a reading goroutine sees the close and leaves
	if m.fd >= 0 {
		m.h.wg.Go(func() { m.h.leave(m, nil) }) // not here: callers hold locks leave takes
	}
}
