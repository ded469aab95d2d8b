// Package serve is sockit's session engine: what runs a session between
// two endpoints and tells what it does. Watch is the session's observers
// in one place: NDJSON events (package events) and a pcapng capture
// (package capture), with TLS seen on the wire and decrypted by its keys.
package serve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sockit/sockit/capture"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/hub"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tlsconf"
)

// Watch is what observes a program's sessions: an events observer and a
// capture, either of which may be nil. A nil *Watch watches nothing, at
// no cost; so does one with neither.
type Watch struct {
	Events  events.Observer
	Capture *capture.Writer
	// Warn, if set, hears a warning once: the capture holds TLS keys.
	Warn func(msg string)

	mu     sync.Mutex
	ifaces map[string]int // capture interfaces, by side
	seqno  int            // sessions captured, for their synthetic ports
	keys   []byte         // TLS key log lines not yet in the capture
	warned bool
}

// Emit sends e to the events observer, stamped now if it has no time.
func (w *Watch) Emit(e events.Event) {
	if w == nil || w.Events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	w.Events.Observe(e)
}

// RoomTap is what a room's Forward hook (and the -k fan-out of stdin)
// calls with each message it broadcasts, so that the taps see it once,
// as sent, however many clients hear it (ncat's -o logs a broadcast so);
// nil when no tap watches.
func (w *Watch) RoomTap() func(p []byte) {
	if w == nil {
		return nil
	}
	t := events.TapOf(w.Events)
	if t == nil {
		return nil
	}
	return func(p []byte) { t.Data(events.Chunk{AToB: true, ToNet: true, Data: p}) }
}

// Taps says whether an observer of w sees the bytes themselves (an
// events.Tap): its sessions then move them through user space.
func (w *Watch) Taps() bool { return w != nil && events.TapOf(w.Events) != nil }

// Listening tells of a listener bound at a.
func (w *Watch) Listening(a net.Addr) {
	if w == nil || w.Events == nil {
		return
	}
	w.Emit(events.Event{Kind: events.Listening, Proto: NetName(a), Local: endpoint.Addr(a)})
}

// Refused tells of a client from peer turned away by the listener at
// local, and why.
func (w *Watch) Refused(local, peer net.Addr, why string) {
	w.Emit(events.Event{Kind: events.Refused, Proto: NetName(peer), Local: endpoint.Addr(local), Remote: endpoint.Addr(peer), Verdict: "deny", Reason: why})
}

// Connecting tells of a dial about to start and returns the uid its
// session will have ("" when nothing watches).
func (w *Watch) Connecting(proto, remote string) string {
	if w == nil || w.Events == nil {
		return ""
	}
	uid := events.NewUID()
	w.Emit(events.Event{Kind: events.Connecting, UID: uid, Proto: proto, Remote: remote})
	return uid
}

// TLSObserver is what endpoint.WithTLSObserver wants, so that the TLS
// connections under it reach the capture (records and keys) and keyLog
// (the NSS key log), either of which may be absent; nil when both are.
func (w *Watch) TLSObserver(file io.Writer) *endpoint.TLSObserver {
	capturing := w != nil && w.Capture != nil
	if file == nil && !capturing {
		return nil
	}
	if w == nil {
		w = &Watch{}
	}
	obs := &endpoint.TLSObserver{KeyLog: keyLog{w: w, file: file}}
	if capturing {
		obs.Wire = w.wire
	}
	return obs
}

// keyLog takes crypto/tls's key log lines for the file and the capture.
type keyLog struct {
	w    *Watch
	file io.Writer
}

// flow is one session as events tell it: its uid, its addresses and its
// start. A nil flow (no observer) does nothing, at no cost.
type Session struct {
	w       *Watch
	base    events.Event
	start   time.Time
	inbound bool          // the remote end originated the session
	tap     events.Tap    // the Watch's observers that see the bytes
	legs    [2]*leg       // --capture's two sides, a and b of the join
	tlsWait chan struct{} // closed once a server's handshake has been told

	mu    sync.Mutex
	conns []stream.Conn // what close closes
	proc  *os.Process   // the session's command, if any
}

// newFlow starts the events of a session on c; accepted says the peer
// connected to us.
func (w *Watch) Session(c stream.Conn, accepted bool, uid string) *Session {
	if w == nil || (w.Events == nil && w.Capture == nil) {
		return nil
	}
	f := &Session{w: w, start: time.Now(), inbound: accepted, tap: events.TapOf(w.Events)}
	f.base = flowOf(c, accepted)
	f.base.UID = uid
	if uid == "" {
		f.base.UID = events.NewUID()
	}
	return f
}

// flowOf fills an event's flow fields from c's addresses.
func flowOf(c stream.Conn, accepted bool) events.Event {
	var e events.Event
	local, remote := c.LocalAddr(), c.RemoteAddr()
	if n := NetName(local); n != "" {
		e.Proto, e.Local = n, endpoint.Addr(local)
	}
	if n := NetName(remote); n != "" {
		e.Proto, e.Remote = n, endpoint.Addr(remote)
	}
	l, p := events.AddrPort(local), events.AddrPort(remote)
	if !l.IsValid() || !p.IsValid() {
		return e
	}
	e.Local, e.Remote = "", ""
	e.Orig, e.Resp = l, p
	if accepted {
		e.Orig, e.Resp = p, l
	}
	proto := uint8(events.ProtoTCP)
	if e.Proto == "udp" {
		proto = events.ProtoUDP
	}
	e.CommunityID = events.CommunityID(proto, e.Orig, e.Resp, 0)
	return e
}

// emit sends one event of the session's; set fills the kind's fields.
func (f *Session) Emit(kind events.Kind, set func(*events.Event)) {
	if f == nil {
		return
	}
	e := f.base
	e.Kind = kind
	if set != nil {
		set(&e)
	}
	f.w.Emit(e)
}

// dir names a relay direction: toB is a→b, and the session's socket is
// b when socketIsB.
func (f *Session) dir(toB, socketIsB bool) events.Dir {
	if (toB == socketIsB) != f.inbound { // bytes we sent, and we originated
		return events.Orig
	}
	return events.Resp
}

// progress is the relay hook that reports first bytes and half-closes,
// or nil when no one listens.
func (f *Session) Progress(socketIsB bool) func(bool, relay.Step, int64) {
	if f == nil {
		return nil
	}
	return func(toB bool, step relay.Step, n int64) {
		d := f.dir(toB, socketIsB)
		if step == relay.EOF {
			f.captureEOF(toB)
		}
		if step == relay.FirstByte {
			f.Emit(events.FirstByte, func(e *events.Event) { e.Dir = d })
			return
		}
		f.Emit(events.HalfClose, func(e *events.Event) { e.Dir, e.Bytes = d, n })
	}
}

// closed ends the session's events with its counts and how it ended.
func (f *Session) Closed(st relay.Stats, socketIsB bool, err error) {
	if f == nil {
		return
	}
	if f.tlsWait != nil {
		<-f.tlsWait // the handshake is told before the close; the conns are closed, so it is over
	}
	f.captureEnd(err)
	f.Emit(events.Closed, func(e *events.Event) {
		e.Duration = time.Since(f.start)
		if f.dir(true, socketIsB) == events.Orig {
			e.OrigBytes, e.RespBytes = st.AToB, st.BToA
		} else {
			e.OrigBytes, e.RespBytes = st.BToA, st.AToB
		}
		e.ConnState = "SF"
		switch {
		case err == nil:
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
			e.ConnState = "RSTR" // the responder reset
			if f.inbound {
				e.ConnState = "RSTO"
			}
			e.Reason = err.Error()
		case errors.Is(err, hub.ErrSlowReader):
			e.ConnState, e.Reason, e.Op = "RSTR", err.Error(), "slow_reader" // the room reset it
		default:
			e.ConnState, e.Reason = "S1", err.Error() // established, not closed by both sides
		}
	})
}

// connected tells of a dial that succeeded, and of its TLS handshake.
func (f *Session) Connected(c stream.Conn) {
	if f == nil {
		return
	}
	f.track(c)
	f.Emit(events.Connected, func(e *events.Event) {
		e.Close = f.close
		e.Family = family(c.RemoteAddr())
		if e.Remote != "" {
			e.Tried = []string{e.Remote}
		} else if e.Resp.IsValid() {
			e.Tried = []string{e.Resp.String()}
		}
	})
	f.tls(c)
}

// accepted tells of a connection let in.
func (f *Session) Accepted(c stream.Conn) {
	if f == nil {
		return
	}
	f.track(c)
	f.Emit(events.Accepted, func(e *events.Event) { e.Verdict, e.Close = "allow", f.close })
	f.tls(c)
}

// track remembers a conn of the session, for close.
func (f *Session) track(c stream.Conn) {
	f.mu.Lock()
	f.conns = append(f.conns, c)
	f.mu.Unlock()
}

// close ends the session from outside (the monitor's control): its
// conns are closed, which ends its copy, and its command is stopped.
func (f *Session) close() {
	f.mu.Lock()
	conns, child := f.conns, f.proc
	f.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	if child != nil {
		terminate(child)
	}
}

// tls tells of c's handshake, if c is TLS, and lets its captured
// records out after the keys: at once for a client, whose handshake is
// done; for a server, whose handshake runs on first use, when it is.
func (f *Session) tls(c stream.Conn) {
	tc, ok := c.(tlsConn)
	if !ok {
		return
	}
	wire, _ := tc.NetConn().(*wireConn)
	if _, server := c.(*endpoint.ServerTLSConn); server {
		done := make(chan struct{})
		f.tlsWait = done
		go func() {
			defer close(done)
			err := tc.HandshakeContext(context.Background()) // ends when the conn does
			if wire != nil {
				wire.release()
			}
			if err == nil {
				f.tlsDone(tc.ConnectionState())
			} else {
				f.Emit(events.Error, func(e *events.Event) { e.Op, e.Reason = "tls", "tls handshake: "+err.Error() })
			}
		}()
		return
	}
	if wire != nil {
		wire.release()
	}
	f.tlsDone(tc.ConnectionState())
}

// tlsDone tells of a completed handshake.
func (f *Session) tlsDone(cs tls.ConnectionState) {
	f.Emit(events.TLS, func(e *events.Event) {
		e.TLSVersion = tls.VersionName(cs.Version)
		e.Cipher = tls.CipherSuiteName(cs.CipherSuite)
		e.ALPN, e.SNI, e.Resumed = cs.NegotiatedProtocol, cs.ServerName, cs.DidResume
		if len(cs.PeerCertificates) > 0 {
			e.PeerSHA256 = strings.TrimPrefix(tlsconf.Fingerprint(cs.PeerCertificates[0].Raw), "sha256:")
		}
	})
}

// child tells of a command started for the session, and returns what
// tells of its end.
func (f *Session) Child(cmd *exec.Cmd) func() {
	if f == nil || cmd.Process == nil {
		return func() {}
	}
	pid := cmd.Process.Pid
	f.mu.Lock()
	f.proc = cmd.Process
	f.mu.Unlock()
	f.Emit(events.ChildStarted, func(e *events.Event) { e.PID, e.Command = pid, strings.Join(cmd.Args, " ") })
	return func() {
		f.Emit(events.ChildExited, func(e *events.Event) {
			e.PID, e.Status = pid, exitStatus(cmd.ProcessState)
		})
	}
}

// exitStatus is a shell's $? for a finished process: 128+N for signal N.
func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// dialFailed tells of a connect that did not happen, as Zeek's REJ (a
// refusal) or S0 (no answer).
func (w *Watch) DialFailed(uid, proto, remote string, err error) {
	state := "S0"
	if errors.Is(err, syscall.ECONNREFUSED) {
		state = "REJ"
	}
	if errors.Is(err, context.Canceled) {
		state = "OTH"
	}
	op := "dial"
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	if errors.As(err, &alert) || errors.As(err, &verify) || errors.As(err, &record) {
		op = "tls"
	}
	w.Emit(events.Event{Kind: events.Closed, UID: uid, Proto: proto, Remote: remote, ConnState: state, Reason: err.Error(), Op: op})
}

// NetName is a's network ("tcp", "unix"), or "" for no address.
func NetName(a net.Addr) string {
	switch a := a.(type) {
	case nil:
		return ""
	case *net.TCPAddr:
		if a == nil {
			return ""
		}
	case *net.UDPAddr:
		if a == nil {
			return ""
		}
	case *net.UnixAddr:
		if a == nil {
			return ""
		}
	}
	return a.Network()
}

// family names an address's family as events do.
func family(a net.Addr) string {
	ap := events.AddrPort(a)
	switch {
	case ap.IsValid() && ap.Addr().Unmap().Is4():
		return "ipv4"
	case ap.IsValid():
		return "ipv6"
	case strings.HasPrefix(NetName(a), "unix"):
		return "unix"
	}
	return ""
}

// heldByChild ends the events of a session whose socket a command held
// itself: how long it lasted, but not what it carried, which sockit did
// not see.
func (f *Session) HeldByChild() {
	if f == nil {
		return
	}
	f.Emit(events.Closed, func(e *events.Event) {
		e.Duration, e.ConnState = time.Since(f.start), "OTH"
		e.Reason = "the command held the socket; its bytes were not counted"
	})
}

// leg tells of the other connection a relayed session opened: its own
// addresses, under the session's uid.
func (f *Session) Leg(c stream.Conn) {
	if f == nil {
		return
	}
	f.track(c)
	e := flowOf(c, false)
	e.Kind, e.UID = events.Connected, f.base.UID
	e.Family = family(c.RemoteAddr())
	if e.Resp.IsValid() {
		e.Tried = []string{e.Resp.String()}
	}
	f.w.Emit(e)
	f.tls(c)
}

// iface is the capture interface for one side of the sessions, made the
// first time a session uses it.
func (w *Watch) iface(name, description string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := name + "\x00" + description
	if id, ok := w.ifaces[key]; ok {
		return id
	}
	if w.ifaces == nil {
		w.ifaces = map[string]int{}
	}
	id := w.Capture.Interface(name, description)
	w.ifaces[key] = id
	return id
}

// leg is one side of a captured session: its synthetic flow, and
// whether the far end originated it.
type leg struct {
	flow        *capture.Flow
	farIsOrigin bool
}

// side names one side of a session for the capture's interface: a
// short name and the endpoint ("TCP-LISTEN:8080", "stdio", "exec cat").
type Side struct{ Name, Description string }

// capturing records the session joining a and b from now on: bytesHook
// sees the bytes, and progress the FINs. socketIsB says which of the two is
// the flow's socket, whose originator the flow knows.
func (f *Session) Capturing(a, b stream.Conn, aSide, bSide Side, socketIsB bool) {
	if f == nil || f.w.Capture == nil {
		return
	}
	f.w.mu.Lock()
	f.w.seqno++
	n := f.w.seqno
	f.w.mu.Unlock()
	f.legs = [2]*leg{f.newLeg(a, aSide, !socketIsB, n, 0), f.newLeg(b, bSide, socketIsB, n, 1)}
}

// newLeg starts the capture of one connection of the session: the n-th
// capturing session's which-th leg.
func (f *Session) newLeg(c stream.Conn, sd Side, isSocket bool, n, which int) *leg {
	inbound := isSocket && f.inbound
	orig, resp := events.AddrPort(c.LocalAddr()), events.AddrPort(c.RemoteAddr())
	desc := sd.Description
	switch {
	case isTLS(c):
		// The plaintext of a TLS connection, whose records the
		// "tls" interface has under the real addresses.
		desc = "plaintext of TLS " + c.LocalAddr().String() + " ↔ " + c.RemoteAddr().String()
		orig, resp = synthetic(uint16(40000 + (2*n+which)%20000))
	case !orig.IsValid() || !resp.IsValid() || orig.Addr().Unmap().Is4() != resp.Addr().Unmap().Is4():
		// No IP flow (Unix, stdio, a command): sockit is 127.1.0.1
		// and the endpoint 127.1.0.2, a port pair per session.
		orig, resp = synthetic(uint16(40000 + (2*n+which)%20000))
		if ad := describe(c); ad != "" && !strings.Contains(desc, ad) {
			desc += " (" + ad + ")"
		}
	}
	if inbound {
		orig, resp = resp, orig
	}
	id := f.w.iface(sd.Name, desc)
	l := &leg{farIsOrigin: inbound}
	at := time.Now() // a connection sockit opened for the session: just now
	if isSocket {
		at = f.start
	}
	if network(c) == "udp" || network(c) == "unixgram" {
		l.flow = f.w.Capture.UDP(id, orig, resp)
	} else {
		l.flow = f.w.Capture.TCP(id, orig, resp, at)
	}
	return l
}

// Join relays a and b (relay.Join) as the session: the capture records
// both sides (aSide, bSide), the Watch's Taps see the bytes, events tell
// the first bytes, the half-closes and the close. socketIsB says which
// of the two is the session's socket. A nil Session only relays.
func (f *Session) Join(ctx context.Context, a, b stream.Conn, opt relay.Options, aSide, bSide Side, socketIsB bool) (relay.Stats, error) {
	f.Capturing(a, b, aSide, bSide, socketIsB)
	opt.Tap = f.bytesHook(opt.Tap, socketIsB)
	opt.Progress = f.Progress(socketIsB)
	st, err := relay.Join(ctx, a, b, opt)
	f.Closed(st, socketIsB, err)
	return st, err
}

// bytesHook is what sees the session's bytes: the capture's legs (a
// chunk a→b was sent by a's far end and then by sockit to b's, and the
// other way round) and the Taps, then next; next alone when nothing
// else wants them, so the relay keeps its kernel paths.
func (f *Session) bytesHook(next func(bool, []byte), socketIsB bool) func(bool, []byte) {
	if f == nil || (f.legs[0] == nil && f.tap == nil) {
		return next
	}
	return func(toB bool, p []byte) {
		if f.legs[0] != nil {
			now := time.Now()
			from, to := f.legs[0], f.legs[1]
			if !toB {
				from, to = to, from
			}
			from.flow.Data(from.farIsOrigin, p, now)
			to.flow.Data(!to.farIsOrigin, p, now)
		}
		if f.tap != nil {
			f.tap.Data(events.Chunk{UID: f.base.UID, AToB: toB, ToNet: toB == socketIsB, Data: p})
		}
		if next != nil {
			next(toB, p)
		}
	}
}

// captureEOF records a direction's end: a FIN from the far end that
// stopped sending, and one from sockit to the other.
func (f *Session) captureEOF(toB bool) {
	if f == nil || f.legs[0] == nil {
		return
	}
	now := time.Now()
	from, to := f.legs[0], f.legs[1]
	if !toB {
		from, to = to, from
	}
	from.flow.FIN(from.farIsOrigin, now)
	to.flow.FIN(!to.farIsOrigin, now)
}

// captureEnd closes the legs of a session that failed: a reset from
// sockit on each.
func (f *Session) captureEnd(err error) {
	if f == nil || f.legs[0] == nil || err == nil {
		return
	}
	now := time.Now()
	for _, l := range f.legs {
		l.flow.RST(!l.farIsOrigin, now)
	}
}

// network is c's address family name, "" when it has none.
func network(c stream.Conn) string {
	if n := NetName(c.LocalAddr()); n != "" {
		return n
	}
	return NetName(c.RemoteAddr())
}

// describe names an endpoint that has no IP address: its Unix path.
func describe(c stream.Conn) string {
	for _, a := range []net.Addr{c.LocalAddr(), c.RemoteAddr()} {
		if n := NetName(a); n != "" && a.String() != "" && a.String() != "@" {
			return n + " " + a.String()
		}
	}
	return ""
}

// Write takes key log lines from crypto/tls.
func (k keyLog) Write(p []byte) (int, error) {
	w := k.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if k.file != nil {
		k.file.Write(p) //nolint:errcheck // a key log that cannot be written does not stop a session
	}
	if w.Capture != nil {
		w.keys = append(w.keys, p...)
	}
	return len(p), nil
}

// flushKeys puts the key log lines seen so far in the capture.
func (w *Watch) flushKeys() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.keys) == 0 {
		return
	}
	if !w.warned && w.Warn != nil {
		w.warned = true
		w.Warn("the capture holds TLS session keys (a decryption secrets block): whoever reads it can decrypt these sessions")
	}
	w.Capture.Secrets(w.keys)
	w.keys = nil
}

// wire wraps a TCP connection that TLS runs over, to capture its records.
func (w *Watch) wire(raw net.Conn, server bool) net.Conn {
	local, remote := events.AddrPort(raw.LocalAddr()), events.AddrPort(raw.RemoteAddr())
	if !local.IsValid() || !remote.IsValid() {
		return raw
	}
	orig, resp := local, remote
	if server {
		orig, resp = remote, local
	}
	id := w.iface("tls", "TLS records as they crossed the wire")
	return &wireConn{Conn: raw, w: w, flow: w.Capture.TCP(id, orig, resp, time.Now()), server: server, holding: true}
}

// wireConn records what crosses a TLS connection's socket. Until the
// handshake is done (release) its frames are held, so that the keys
// logged during the handshake reach the capture before the records
// they decrypt.
type wireConn struct {
	net.Conn
	w       *Watch
	flow    *capture.Flow
	server  bool // the peer originated the connection
	mu      sync.Mutex
	holding bool
	held    []heldFrame
	finIn   bool
	finOut  bool
}

type heldFrame struct {
	fromOrig, fin bool
	p             []byte
	t             time.Time
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.record(heldFrame{fromOrig: c.server, p: p[:n], t: time.Now()})
	}
	if err == io.EOF {
		c.mu.Lock()
		fin := !c.finIn
		c.finIn = true
		c.mu.Unlock()
		if fin {
			c.record(heldFrame{fromOrig: c.server, fin: true, t: time.Now()})
		}
	}
	return n, err
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.record(heldFrame{fromOrig: !c.server, p: p[:n], t: time.Now()})
	}
	return n, err
}

// Close records sockit's FIN, lets out what was held, and closes.
func (c *wireConn) Close() error {
	c.mu.Lock()
	fin := !c.finOut
	c.finOut = true
	c.mu.Unlock()
	if fin {
		c.record(heldFrame{fromOrig: !c.server, fin: true, t: time.Now()})
	}
	c.release()
	return c.Conn.Close()
}

func (c *wireConn) record(f heldFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		f.p = append([]byte(nil), f.p...)
		c.held = append(c.held, f)
		return
	}
	c.write(f)
}

func (c *wireConn) write(f heldFrame) {
	if f.fin {
		c.flow.FIN(f.fromOrig, f.t)
		return
	}
	c.flow.Data(f.fromOrig, f.p, f.t)
}

// release puts the handshake's keys in the capture, then the frames
// held so far; from now on frames go straight in.
func (c *wireConn) release() {
	c.w.flushKeys()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.holding {
		return
	}
	c.holding = false
	for _, f := range c.held {
		c.write(f)
	}
	c.held = nil
}

// tlsConn is what *tls.Conn and *endpoint.ServerTLSConn have in common.
type tlsConn interface {
	ConnectionState() tls.ConnectionState
	HandshakeContext(context.Context) error
	NetConn() net.Conn
}

// isTLS says whether c is a TLS connection.
func isTLS(c any) bool { _, ok := c.(tlsConn); return ok }

// synthetic is the address pair of a capture leg with no IP flow of its
// own: sockit is 127.1.0.1 and the endpoint 127.1.0.2, on port.
func synthetic(port uint16) (sockit, endpoint netip.AddrPort) {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, 0, 1}), port),
		netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, 0, 2}), port)
}

// Exec runs cmd for conn, as a session f tells: the child gets the socket itself when it
// can, or is joined with conn through its pipes or terminal. err is a
// failure to start; joined is the copy's own error, if there was a copy.
func Exec(ctx context.Context, cmd endpoint.Command, conn stream.Conn, opt relay.Options, f *Session) (joined, err error) {
	child, pipes, err := cmd.Start(ctx, conn)
	if err != nil {
		conn.Close()
		f.Emit(events.Error, func(e *events.Event) { e.Op, e.Reason = "exec", err.Error() })
		return nil, fmt.Errorf("exec: %w", err)
	}
	exited := f.Child(child)
	if pipes == nil {
		conn.Close() // the child holds its own copy of the descriptor
	} else {
		_, joined = f.Join(ctx, conn, pipes, opt, Side{Name: "network"}, Side{Name: "exec", Description: strings.Join(cmd.Argv, " ")}, false)
	}
	child.Wait() //nolint:errcheck // the child's status is its own business
	exited()
	if pipes == nil {
		f.HeldByChild()
	}
	return joined, nil
}

// Counted wraps c to count what crosses it, for a session whose bytes
// go through code that does not report them (a hub, a proxy server);
// done tells the session's close with those counts. A nil Session
// returns c as it is: nothing is counted when nothing watches.
func (f *Session) Counted(c stream.Conn) (counted stream.Conn, done func(error)) {
	return f.counted(c, true)
}

// counted is Counted; tapWrites says whether the taps see what is
// written to c (a broadcast, a room's or the -k fan-out's, is tapped
// once by RoomTap, not once per client).
func (f *Session) counted(c stream.Conn, tapWrites bool) (counted stream.Conn, done func(error)) {
	if f == nil {
		return c, func(error) {}
	}
	k := &counts{tap: f.tap, uid: f.base.UID, tapWrites: tapWrites}
	if f.w.Capture != nil {
		// One leg: the client's connection; the room or the proxy is
		// sockit itself.
		f.w.mu.Lock()
		f.w.seqno++
		n := f.w.seqno
		f.w.mu.Unlock()
		k.leg = f.newLeg(c, Side{Name: "network"}, true, n, 0)
	}
	done = func(err error) {
		err = ignoreClosed(err)
		k.end(err)
		f.Closed(relay.Stats{AToB: k.sent.Load(), BToA: k.received.Load()}, true, err)
	}
	if nc, ok := c.(net.Conn); ok {
		return &countedNetConn{Conn: nc, s: c, k: k}, done
	}
	return &countedConn{Conn: c, k: k}, done
}

// ignoreClosed is nil for a conn its own side closed: the session's end.
func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// counts are a counted conn's bytes each way, and its capture leg, if
// the session is captured, and its taps, if any: the conn is the
// session's network side (b), sockit the other (a).
type counts struct {
	sent, received atomic.Int64
	leg            *leg
	tap            events.Tap
	uid            string
	tapWrites      bool
}

// read and wrote tell the capture and the taps what crossed the conn.
func (k *counts) read(p []byte, err error) {
	k.received.Add(int64(len(p)))
	if k.tap != nil && len(p) > 0 {
		k.tap.Data(events.Chunk{UID: k.uid, Data: p})
	}
	if k.leg == nil {
		return
	}
	if len(p) > 0 {
		k.leg.flow.Data(k.leg.farIsOrigin, p, time.Now())
	}
	if err == io.EOF {
		k.leg.flow.FIN(k.leg.farIsOrigin, time.Now())
	}
}

func (k *counts) wrote(p []byte) {
	k.sent.Add(int64(len(p)))
	if k.tap != nil && k.tapWrites && len(p) > 0 {
		k.tap.Data(events.Chunk{UID: k.uid, AToB: true, ToNet: true, Data: p})
	}
	if k.leg != nil && len(p) > 0 {
		k.leg.flow.Data(!k.leg.farIsOrigin, p, time.Now())
	}
}

// end tells the capture sockit's close: a FIN, or a reset after err.
func (k *counts) end(err error) {
	if k.leg == nil {
		return
	}
	if err != nil {
		k.leg.flow.RST(!k.leg.farIsOrigin, time.Now())
		return
	}
	k.leg.flow.FIN(!k.leg.farIsOrigin, time.Now())
}

// countedConn counts a stream.Conn's bytes.
type countedConn struct {
	stream.Conn
	k *counts
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.k.read(p[:n], err)
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.k.wrote(p[:n])
	return n, err
}

// CloseWrite half-closes the conn, as the capture tells.
func (c *countedConn) CloseWrite() error {
	c.k.end(nil)
	return c.Conn.CloseWrite()
}

// countedNetConn counts a net.Conn's bytes and keeps its half-close.
type countedNetConn struct {
	net.Conn
	s stream.Conn
	k *counts
}

func (c *countedNetConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.k.read(p[:n], err)
	return n, err
}

func (c *countedNetConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.k.wrote(p[:n])
	return n, err
}

// CloseWrite half-closes the underlying conn, as the capture tells.
func (c *countedNetConn) CloseWrite() error {
	c.k.end(nil)
	return c.s.CloseWrite()
}
