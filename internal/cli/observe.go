package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/sockit/sockit/capture"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tlsconf"
)

// openEvents starts --json: NDJSON events on stderr ("-") or in a file.
// The closer ends the file.
func (r *runner) openEvents(dest string) (io.Closer, error) {
	switch dest {
	case "":
		return io.NopCloser(nil), nil
	case "-":
		r.events = events.NewEncoder(r.stderr)
		return io.NopCloser(nil), nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--json: %w", err)
	}
	r.events = events.NewEncoder(f)
	return f, nil
}

// emit sends e to --json's observer, if there is one.
func (r *runner) emit(e events.Event) {
	if r.events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	r.events.Observe(e)
}

// flow is one session as events tell it: its uid, its addresses and its
// start. A nil flow (no observer) does nothing, at no cost.
type flow struct {
	r       *runner
	base    events.Event
	start   time.Time
	inbound bool          // the remote end originated the session
	legs    [2]*leg       // --capture's two sides, a and b of the join
	tlsWait chan struct{} // closed once a server's handshake has been told
}

// newFlow starts the events of a session on c; accepted says the peer
// connected to us.
func (r *runner) newFlow(c stream.Conn, accepted bool) *flow {
	if r.events == nil && r.capture == nil {
		return nil
	}
	f := &flow{r: r, start: time.Now(), inbound: accepted}
	f.base = flowOf(c, accepted)
	f.base.UID = events.NewUID()
	return f
}

// flowOf fills an event's flow fields from c's addresses.
func flowOf(c stream.Conn, accepted bool) events.Event {
	var e events.Event
	local, remote := c.LocalAddr(), c.RemoteAddr()
	if n := netName(local); n != "" {
		e.Proto, e.Local = n, endpoint.Addr(local)
	}
	if n := netName(remote); n != "" {
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
func (f *flow) emit(kind events.Kind, set func(*events.Event)) {
	if f == nil {
		return
	}
	e := f.base
	e.Kind = kind
	if set != nil {
		set(&e)
	}
	f.r.emit(e)
}

// dir names a relay direction: toB is a→b, and the session's socket is
// b when socketIsB.
func (f *flow) dir(toB, socketIsB bool) events.Dir {
	if (toB == socketIsB) != f.inbound { // bytes we sent, and we originated
		return events.Orig
	}
	return events.Resp
}

// progress is the relay hook that reports first bytes and half-closes,
// or nil when no one listens.
func (f *flow) progress(socketIsB bool) func(bool, relay.Step, int64) {
	if f == nil {
		return nil
	}
	return func(toB bool, step relay.Step, n int64) {
		d := f.dir(toB, socketIsB)
		if step == relay.EOF {
			f.captureEOF(toB)
		}
		if step == relay.FirstByte {
			f.emit(events.FirstByte, func(e *events.Event) { e.Dir = d })
			return
		}
		f.emit(events.HalfClose, func(e *events.Event) { e.Dir, e.Bytes = d, n })
	}
}

// closed ends the session's events with its counts and how it ended.
func (f *flow) closed(st relay.Stats, socketIsB bool, err error) {
	if f == nil {
		return
	}
	if f.tlsWait != nil {
		<-f.tlsWait // the handshake is told before the close; the conns are closed, so it is over
	}
	f.captureEnd(err)
	f.emit(events.Closed, func(e *events.Event) {
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
		default:
			e.ConnState, e.Reason = "S1", err.Error() // established, not closed by both sides
		}
	})
}

// connected tells of a dial that succeeded, and of its TLS handshake.
func (f *flow) connected(c stream.Conn) {
	if f == nil {
		return
	}
	f.emit(events.Connected, func(e *events.Event) {
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
func (f *flow) accepted(c stream.Conn) {
	if f == nil {
		return
	}
	f.emit(events.Accepted, func(e *events.Event) { e.Verdict = "allow" })
	f.tls(c)
}

// tls tells of c's handshake, if c is TLS, and lets its captured
// records out after the keys: at once for a client, whose handshake is
// done; for a server, whose handshake runs on first use, when it is.
func (f *flow) tls(c stream.Conn) {
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
func (f *flow) tlsDone(cs tls.ConnectionState) {
	f.emit(events.TLS, func(e *events.Event) {
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
func (f *flow) child(cmd *exec.Cmd) func() {
	if f == nil || cmd.Process == nil {
		return func() {}
	}
	pid := cmd.Process.Pid
	f.emit(events.ChildStarted, func(e *events.Event) { e.PID, e.Command = pid, strings.Join(cmd.Args, " ") })
	return func() {
		f.emit(events.ChildExited, func(e *events.Event) {
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
func (r *runner) dialFailed(uid, proto, remote string, err error) {
	state := "S0"
	if errors.Is(err, syscall.ECONNREFUSED) {
		state = "REJ"
	}
	if errors.Is(err, context.Canceled) {
		state = "OTH"
	}
	r.emit(events.Event{Kind: events.Closed, UID: uid, Proto: proto, Remote: remote, ConnState: state, Reason: err.Error()})
}

// netName is a's network ("tcp", "unix"), or "" for no address.
func netName(a net.Addr) string {
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
	case strings.HasPrefix(netName(a), "unix"):
		return "unix"
	}
	return ""
}

// heldByChild ends the events of a session whose socket a command held
// itself: how long it lasted, but not what it carried, which sockit did
// not see.
func (f *flow) heldByChild() {
	if f == nil {
		return
	}
	f.emit(events.Closed, func(e *events.Event) {
		e.Duration, e.ConnState = time.Since(f.start), "OTH"
		e.Reason = "the command held the socket; its bytes were not counted"
	})
}

// leg tells of the other connection a relayed session opened: its own
// addresses, under the session's uid.
func (f *flow) leg(c stream.Conn) {
	if f == nil {
		return
	}
	e := flowOf(c, false)
	e.Kind, e.UID = events.Connected, f.base.UID
	e.Family = family(c.RemoteAddr())
	if e.Resp.IsValid() {
		e.Tried = []string{e.Resp.String()}
	}
	f.r.emit(e)
	f.tls(c)
}

// openCapture starts --capture: a pcapng file, or the stream on stdout
// ("-"), when the session's data goes nowhere (or to -o's file). The
// file is created mode 0600: it holds every byte of every session.
func (r *runner) openCapture(dest string) (io.Closer, error) {
	if dest == "" {
		return io.NopCloser(nil), nil
	}
	var out io.Writer
	var file *os.File
	if dest == "-" {
		out, r.stdout = r.stdout, io.Discard
	} else {
		f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--capture: %w", err)
		}
		out, file = f, f
	}
	cw, err := capture.NewWriter(out, "sockit "+Version)
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, fmt.Errorf("--capture: %w", err)
	}
	r.capture = cw
	r.ifaces = map[string]int{}
	return closerFunc(func() error {
		err := cw.Close()
		if n := cw.Dropped(); n > 0 {
			r.errorf("--capture: %d frames dropped: the capture could not keep up", n)
		}
		if file != nil {
			if cerr := file.Close(); err == nil {
				err = cerr
			}
		}
		return err
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// iface is the capture interface for one side of the sessions, made the
// first time a session uses it.
func (r *runner) iface(name, description string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := name + "\x00" + description
	if id, ok := r.ifaces[key]; ok {
		return id
	}
	id := r.capture.Interface(name, description)
	r.ifaces[key] = id
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
type side struct{ name, description string }

// capturing records the session joining a and b from now on: f.tap sees
// the bytes, and progress the FINs. socketIsB says which of the two is
// the flow's socket, whose originator the flow knows.
func (f *flow) capturing(a, b stream.Conn, aSide, bSide side, socketIsB bool) {
	if f == nil || f.r.capture == nil {
		return
	}
	f.r.mu.Lock()
	f.r.seqno++
	n := f.r.seqno
	f.r.mu.Unlock()
	mk := func(c stream.Conn, sd side, isSocket bool, which int) *leg {
		inbound := isSocket && f.inbound
		orig, resp := events.AddrPort(c.LocalAddr()), events.AddrPort(c.RemoteAddr())
		desc := sd.description
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
		id := f.r.iface(sd.name, desc)
		l := &leg{farIsOrigin: inbound}
		at := time.Now() // a connection sockit opened for the session: just now
		if isSocket {
			at = f.start
		}
		if network(c) == "udp" || network(c) == "unixgram" {
			l.flow = f.r.capture.UDP(id, orig, resp)
		} else {
			l.flow = f.r.capture.TCP(id, orig, resp, at)
		}
		return l
	}
	f.legs = [2]*leg{mk(a, aSide, !socketIsB, 0), mk(b, bSide, socketIsB, 1)}
}

// tap is the capture's view of the bytes: a chunk a→b (toB) was sent by
// a's far end and then by sockit to b's, and the other way round.
func (f *flow) tap(next func(bool, []byte)) func(bool, []byte) {
	if f == nil || f.legs[0] == nil {
		return next
	}
	return func(toB bool, p []byte) {
		now := time.Now()
		from, to := f.legs[0], f.legs[1]
		if !toB {
			from, to = to, from
		}
		from.flow.Data(from.farIsOrigin, p, now)
		to.flow.Data(!to.farIsOrigin, p, now)
		if next != nil {
			next(toB, p)
		}
	}
}

// captureEOF records a direction's end: a FIN from the far end that
// stopped sending, and one from sockit to the other.
func (f *flow) captureEOF(toB bool) {
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
func (f *flow) captureEnd(err error) {
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
	if n := netName(c.LocalAddr()); n != "" {
		return n
	}
	return netName(c.RemoteAddr())
}

// describe names an endpoint that has no IP address: its Unix path.
func describe(c stream.Conn) string {
	for _, a := range []net.Addr{c.LocalAddr(), c.RemoteAddr()} {
		if n := netName(a); n != "" && a.String() != "" && a.String() != "@" {
			return n + " " + a.String()
		}
	}
	return ""
}
