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
	inbound bool // the remote end originated the session
}

// newFlow starts the events of a session on c; accepted says the peer
// connected to us.
func (r *runner) newFlow(c stream.Conn, accepted bool) *flow {
	if r.events == nil {
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
	if local != nil {
		e.Proto, e.Local = local.Network(), endpoint.Addr(local)
	}
	if remote != nil {
		e.Proto, e.Remote = remote.Network(), endpoint.Addr(remote)
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

// tls tells of c's handshake, if c is TLS.
func (f *flow) tls(c stream.Conn) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return
	}
	cs := tc.ConnectionState()
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

// family names an address's family as events do.
func family(a net.Addr) string {
	ap := events.AddrPort(a)
	switch {
	case ap.IsValid() && ap.Addr().Unmap().Is4():
		return "ipv4"
	case ap.IsValid():
		return "ipv6"
	case a != nil && strings.HasPrefix(a.Network(), "unix"):
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
