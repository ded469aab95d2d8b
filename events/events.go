// Package events is sockit's record of what it does: one Event per state
// change of a listener or a session, an Observer interface that the
// engine calls, and an Encoder that writes events as NDJSON.
//
// The field names follow Zeek's conn.log (ts, uid, id.orig_h, id.orig_p,
// id.resp_h, id.resp_p, duration, orig_bytes, resp_bytes, conn_state),
// and every TCP and UDP session carries its Community ID (v1), so that
// sockit's events, its captures and a Zeek or Suricata log join on one
// string. docs/events.md is the schema; Version is its version.
package events

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Version is the schema version every event carries as "v".
const Version = 1

// Kind names a state change.
type Kind string

// The kinds of event, in the order a session meets them.
const (
	Listening    Kind = "listening"     // a listener is bound: Local
	Accepted     Kind = "accepted"      // a connection came in and access control let it in
	Refused      Kind = "refused"       // a connection came in and was turned away: Reason
	Connecting   Kind = "connecting"    // a dial starts: Remote is the address asked for
	Connected    Kind = "connected"     // a dial succeeded: Family, Tried
	TLS          Kind = "tls"           // a TLS handshake completed: TLSVersion, Cipher, ALPN, SNI, PeerSHA256, Resumed
	FirstByte    Kind = "first_byte"    // the first byte moved one way: Dir
	HalfClose    Kind = "half_close"    // one way reached EOF and was shut down: Dir, Bytes
	Closed       Kind = "closed"        // the session ended: Duration, OrigBytes, RespBytes, ConnState, Reason
	ChildStarted Kind = "child_started" // a command started for a session: PID, Command
	ChildExited  Kind = "child_exited"  // it ended: PID, Status
	Retry        Kind = "retry"         // a dial or listen is tried again: Attempt, Reason
	Error        Kind = "error"         // something failed: Reason
	Port         Kind = "port"          // a scanned port's state: PortNumber, State
)

// Dir is the direction of a FirstByte or HalfClose event: Orig is from
// the session's originator (the client, or the side that dialled) to
// its responder.
type Dir string

// The two directions.
const (
	Orig Dir = "orig"
	Resp Dir = "resp"
)

// Event is one state change. Which fields are set depends on Kind; the
// zero value of a field means it does not apply.
type Event struct {
	Time time.Time
	Kind Kind
	UID  string // the session, Zeek-style ("C" and 17 letters or digits); empty for a listener

	// The flow, as Zeek names it: the originator's and the responder's
	// IP addresses and ports (Unix sockets and other endpoints have
	// Local and Remote only).
	Proto       string // "tcp", "udp", "unix", "unixgram", ...
	Orig, Resp  netip.AddrPort
	CommunityID string
	Local       string // this side's address, a Unix path, "stdio", "exec:CMD"
	Remote      string // the other side's

	Family  string   // "ipv4", "ipv6", "unix" (Connected)
	Tried   []string // the addresses a dial tried, in order (Connected)
	Verdict string   // "allow" or "deny" (Accepted, Refused)

	TLSVersion string // "TLS 1.3"
	Cipher     string
	ALPN       string
	SNI        string
	PeerSHA256 string // the peer certificate's SHA-256, hex
	Resumed    bool

	Dir   Dir
	Bytes int64 // what one direction moved (HalfClose)

	Duration             time.Duration
	OrigBytes, RespBytes int64
	ConnState            string // Zeek's: SF, S0, REJ, RSTO, RSTR, S1, OTH

	PID     int
	Command string
	Status  int // a child's exit status; 128+N for signal N

	Attempt int
	Reason  string // why: an error's text, a refusal's cause, a close's cause
	Op      string // what failed (Error, and a failed dial's Closed): "tls", "exec", "dial"; a Closed "slow_reader": a room cut the client off

	PortNumber int    // Port
	State      string // "open", "closed", "filtered" (Port)

	// Close, on Accepted and Connected, ends the session from outside
	// (a monitor's control). It is not part of the written event.
	Close func()
}

// Observer receives events. Observe is called from many goroutines and
// must not block for long: the session waits for it.
type Observer interface {
	Observe(Event)
}

// Func makes a function an Observer.
type Func func(Event)

// Observe calls f.
func (f Func) Observe(e Event) { f(e) }

// Chunk is a piece of a session's bytes as a Tap sees it: what sockit
// wrote one way, just after it wrote it.
type Chunk struct {
	UID string
	// AToB says the bytes moved from the session's first endpoint to its
	// second: socat's left to right, the netcats' stdin to the network.
	AToB bool
	// ToNet says they were written to the session's network side, the
	// socket sockit accepted or dialled: what the netcats call sent.
	ToNet bool
	// Data is only valid during the call.
	Data []byte
}

// Tap is an Observer that also sees the bytes: Data is called with every
// chunk a session writes, from the session's goroutines, one direction's
// chunks in order. A session some Tap watches moves its bytes through
// user space so that the Tap can see them; an Observer that is not a Tap
// leaves the kernel's splice and sendfile paths alone.
type Tap interface {
	Observer
	Data(Chunk)
}

// TapOf is the part of o that is a Tap: o itself, the Taps among a
// Fanout's observers, or nil when nothing in o wants the bytes.
func TapOf(o Observer) Tap {
	switch o := o.(type) {
	case Fanout:
		var taps Fanout
		for _, m := range o {
			if t := TapOf(m); t != nil {
				taps = append(taps, t)
			}
		}
		switch len(taps) {
		case 0:
			return nil
		case 1:
			return taps[0].(Tap)
		}
		return taps
	case Tap:
		return o
	}
	return nil
}

// Fanout sends every event to each observer in turn.
type Fanout []Observer

// Observe passes e to each.
func (f Fanout) Observe(e Event) {
	for _, o := range f {
		o.Observe(e)
	}
}

// Data passes c to each observer that is a Tap.
func (f Fanout) Data(c Chunk) {
	for _, o := range f {
		if t, ok := o.(Tap); ok {
			t.Data(c)
		}
	}
}

// Recorder keeps every event, for tests and for programs that read them
// after the fact.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Observe appends e.
func (r *Recorder) Observe(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// Events returns a copy of what was recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// AddrPort is the IP address and port of a TCP or UDP net.Addr, or the
// zero AddrPort for any other.
func AddrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// NewUID returns a fresh session id in Zeek's form: "C" and 17 letters
// and digits.
func NewUID() string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 18)
	b[0] = 'C'
	for i := 1; i < len(b); i++ {
		b[i] = digits[rand.IntN(len(digits))]
	}
	return string(b)
}
