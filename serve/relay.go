package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// Relay joins two addresses as socat does, and `sockit relay`. When one
// of them listens, each connection it accepts is joined with a fresh
// open of the other: the first only, or with fork every one, at most
// max-children at once (the next waits for one to end). When one
// connects with fork, it connects in a loop, each connection joined
// likewise. Otherwise both are opened and joined once.
type Relay struct {
	A, B address.Spec
	// Options shape each session's copy; Direction AToB or BToA also
	// opens each address for its one direction (socat's -u and -U).
	Options relay.Options
	// Stdin, Stdout and Stderr are the process's own streams, for the
	// STDIO, STDIN, STDOUT and STDERR addresses (and FD:0, FD:1, FD:2
	// without options); nil means os.Stdin, os.Stdout, os.Stderr. A
	// forked session gets duplicates of its own, as each of socat's
	// children has its own descriptors. Stderr is also the commands'.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// SocketPair joins an EXEC or SYSTEM command over a socket pair, as
	// socat does, unless its address says pipes; false joins it through
	// pipes, as ncat's -e.
	SocketPair bool
	// Open, if set, opens each non-listening address for a session in
	// place of OpenAddress (which it may call, to word its errors, say);
	// forked says each session needs its own copies of the stdio.
	Open func(ctx context.Context, sp address.Spec, forked bool) (stream.Conn, error)
	// Log, if set, hears the notices socat's -d -d prints: level 'N',
	// 'W' or 'E', and the line.
	Log func(level byte, msg string)
	// Joining, if set, runs as each session's copy starts, with its two
	// conns (socat's -D describes them).
	Joining func(a, b stream.Conn)
	// Pipes joins a command through pipes even when it could take the
	// accepted socket itself (Joining wants to see both conns).
	Pipes bool
	// Watch tells each session's events and capture; nil tells nothing.
	Watch *Watch
}

// TransferStarting is the notice Log hears as each session's copy
// starts (socat's -lm logs to syslog from then on).
const TransferStarting = "starting data transfer loop"

// ListenError is a listening address that could not listen.
type ListenError struct {
	Spec address.Spec
	Err  error
}

func (e *ListenError) Error() string { return fmt.Sprintf("listen %s: %v", e.Spec, e.Err) }

// Unwrap returns the listen's error.
func (e *ListenError) Unwrap() error { return e.Err }

// Run runs the relay until its sessions are done, or ctx ends.
func (rl *Relay) Run(ctx context.Context) error {
	a, b := rl.A, rl.B
	switch {
	case Listens(a.Kind):
		return rl.serve(ctx, a, b, true)
	case Listens(b.Kind):
		return rl.serve(ctx, b, a, false)
	case endpoint.On(a, "fork"):
		return rl.pool(ctx, a, b, true)
	case endpoint.On(b, "fork"):
		return rl.pool(ctx, b, a, false)
	}
	switch rl.Options.Direction {
	case relay.AToB:
		a, b = endpoint.ForReading(a), endpoint.ForWriting(b)
	case relay.BToA:
		a, b = endpoint.ForWriting(a), endpoint.ForReading(b)
	}
	ca, err := rl.open(ctx, a, false)
	if err != nil {
		return err
	}
	if isCommand(b) && endpoint.On(b, "nofork") && b.Writer == nil {
		// The child takes the first address's descriptors as they are.
		joined, err := Exec(ctx, rl.Command(b), ca, rl.Options, rl.Watch.Session(ca, false, ""))
		if err != nil {
			return err
		}
		return joined
	}
	cb, err := rl.open(ctx, b, false)
	if err != nil {
		ca.Close()
		return err
	}
	// The session's flow is the second address's socket when it has one
	// (STDIO TCP:host), else the first's; sockit originated it.
	socket := cb
	if NetName(cb.RemoteAddr()) == "" {
		socket = ca
	}
	f := rl.Watch.Session(socket, false, "")
	f.Connected(socket)
	return rl.join(ctx, ca, cb, f, socket == cb, nil)
}

func (rl *Relay) log(level byte, msg string) {
	if rl.Log != nil {
		rl.Log(level, msg)
	}
}

func (rl *Relay) open(ctx context.Context, sp address.Spec, forked bool) (stream.Conn, error) {
	if rl.Open != nil {
		return rl.Open(ctx, sp, forked)
	}
	return rl.OpenAddress(ctx, sp, forked)
}

// OpenAddress opens a non-listening address for a session: a dual one
// (A!!B) half by half, the stdio addresses on the Relay's streams (with
// their terminal options), a command as Command says, and everything
// else with endpoint.Dial, telling a failed dial to the Watch.
func (rl *Relay) OpenAddress(ctx context.Context, sp address.Spec, forked bool) (stream.Conn, error) {
	if sp.Writer != nil {
		w := *sp.Writer
		sp.Writer = nil
		r, err := rl.OpenAddress(ctx, endpoint.ForReading(sp), forked)
		if err != nil {
			return nil, err
		}
		wc, err := rl.OpenAddress(ctx, endpoint.ForWriting(w), forked)
		if err != nil {
			r.Close()
			return nil, err
		}
		return &stream.Dual{R: r, W: wc}, nil
	}
	var c stream.Conn
	var err error
	switch kind := stdKind(sp); kind {
	case address.Stdio, address.Stdin, address.Stdout, address.Stderr:
		c, err = endpoint.OpenWith(ctx, sp, func(context.Context) (stream.Conn, error) { return rl.stdio(sp, kind, forked) })
	case address.Exec, address.System:
		c, err = endpoint.OpenWith(ctx, sp, rl.Command(sp).Open)
	default:
		c, err = endpoint.Dial(ctx, sp)
		if err != nil {
			rl.Watch.DialFailed("", "", sp.String(), err)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := endpoint.DropPrivileges(sp, endpoint.PhaseOpened); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// stdio is a stdio address's conn. Terminal options act on the
// descriptor socat would use: 0, or 1 and 2 for STDOUT and STDERR.
func (rl *Relay) stdio(sp address.Spec, kind address.Kind, forked bool) (stream.Conn, error) {
	stdin, stdout, stderr := rl.streams()
	if forked {
		stdin, stdout, stderr = endpoint.Dup(stdin), endpoint.Dup(stdout), endpoint.Dup(stderr)
	}
	var tty any = stdin
	switch kind {
	case address.Stdout:
		tty = stdout
	case address.Stderr:
		tty = stderr
	}
	if f, ok := tty.(*os.File); ok {
		if err := endpoint.SetTermios(f, sp); err != nil {
			return nil, err
		}
	}
	if kind == address.Stderr {
		return endpoint.StdioFor(address.Stdout, nil, stderr), nil
	}
	return endpoint.StdioFor(kind, stdin, stdout), nil
}

// streams are the Relay's stdio, the process's where it names none.
func (rl *Relay) streams() (io.Reader, io.Writer, io.Writer) {
	var (
		in         io.Reader = os.Stdin
		out, diags io.Writer = os.Stdout, os.Stderr
	)
	if rl.Stdin != nil {
		in = rl.Stdin
	}
	if rl.Stdout != nil {
		out = rl.Stdout
	}
	if rl.Stderr != nil {
		diags = rl.Stderr
	}
	return in, out, diags
}

// stdKind maps FD:0, FD:1 and FD:2 (without options) to the streams a
// Relay was given, as STDIN, STDOUT and STDERR; any other spec keeps its
// kind.
func stdKind(sp address.Spec) address.Kind {
	if sp.Kind == address.FD && len(sp.Options) == 0 {
		switch sp.Arg(0) {
		case "0":
			return address.Stdin
		case "1":
			return address.Stdout
		case "2":
			return address.Stderr
		}
	}
	return sp.Kind
}

// Command is how an EXEC or SYSTEM address runs for a session: the
// address's command, its stderr the Relay's, over a socket pair when
// SocketPair says so and the address does not say pipes.
func (rl *Relay) Command(sp address.Spec) endpoint.Command {
	cmd := endpoint.CommandFor(sp)
	_, _, cmd.Stderr = rl.streams()
	cmd.SocketPair = rl.SocketPair && !endpoint.On(sp, "pipes")
	return cmd
}

// serve listens on l and joins every accepted conn with a fresh o: one
// conn, or with fork one goroutine per conn (max-children at once; more
// wait, as socat's parent waits).
func (rl *Relay) serve(ctx context.Context, l, o address.Spec, listenIsA bool) error {
	ln, err := endpoint.Listen(ctx, l)
	if err != nil {
		return &ListenError{Spec: l, Err: err}
	}
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	if err := endpoint.DropPrivileges(l, endpoint.PhaseOpened); err != nil {
		return err
	}
	rl.log('N', fmt.Sprintf("listening on %s", endpoint.Addr(ln.Addr())))
	rl.Watch.Listening(ln.Addr())
	_, fork := l.Opt("fork")
	kids := newChildren(l)
	defer kids.wait()
	for {
		c, err := Accept(ctx, ln, func(err error) {
			rl.log('W', fmt.Sprintf("accept: %v; waiting for a session to end", err))
		})
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, endpoint.ErrAcceptTimeout) {
				rl.log('N', err.Error())
				return nil // socat 1.7.4 ends with status 0
			}
			return fmt.Errorf("accept: %w", err)
		}
		rl.log('N', fmt.Sprintf("accepting connection from %s on %s", endpoint.Addr(c.RemoteAddr()), endpoint.Addr(c.LocalAddr())))
		f := rl.Watch.Session(c, true, "")
		f.Accepted(c)
		if !fork {
			ln.Close()
			return rl.handle(ctx, c, l, o, listenIsA, fork, f, nil)
		}
		if !kids.acquire(ctx) {
			c.Close()
			return nil
		}
		kids.run(func(done func()) { rl.handleLogged(ctx, c, l, o, listenIsA, fork, f, done) })
	}
}

// pool is fork on a connecting address: socat's parent connects in a
// loop, handing each connection to a child joined with a fresh other
// address, max-children at once (more wait for one to end). The first
// connect that fails (after retry, if asked) ends the loop; the
// sessions already running go on to their end.
func (rl *Relay) pool(ctx context.Context, d, o address.Spec, dialIsA bool) error {
	kids := newChildren(d)
	defer kids.wait()
	for {
		if !kids.acquire(ctx) {
			return nil
		}
		c, err := rl.open(ctx, d, true)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		f := rl.Watch.Session(c, false, "")
		f.Connected(c)
		kids.run(func(done func()) { rl.handleLogged(ctx, c, d, o, dialIsA, true, f, done) })
	}
}

// children runs fork's sessions, at most max-children at once.
type children struct {
	slots chan struct{} // nil: no limit
	wg    sync.WaitGroup
}

func newChildren(sp address.Spec) *children {
	k := &children{}
	if v, ok := sp.Opt("max-children"); ok {
		if n, _ := strconv.Atoi(v); n > 0 { // validated by address.Parse
			k.slots = make(chan struct{}, n)
		}
	}
	return k
}

// acquire waits for a free slot; false when ctx ends first.
func (k *children) acquire(ctx context.Context) bool {
	if k.slots == nil {
		return true
	}
	select {
	case k.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// run runs one session in its slot on a goroutine of its own. The
// session calls done, once, when it is over, which may be after it has
// returned: the slot is held until then.
func (k *children) run(session func(done func())) {
	k.wg.Add(1)
	var once sync.Once
	done := func() {
		once.Do(func() {
			if k.slots != nil {
				<-k.slots
			}
			k.wg.Done()
		})
	}
	go session(done)
}

func (k *children) wait() { k.wg.Wait() }

// handleLogged is handle for a forked session: its error is logged, as
// a socat child's is, and ends nothing else. done is called once the
// session is over, which may be after handleLogged has returned: a
// session that the relay's loop takes whole runs on in the loop with no
// goroutine of its own (relay.Start).
func (rl *Relay) handleLogged(ctx context.Context, c stream.Conn, l, o address.Spec, listenIsA, forked bool, f *Session, done func()) {
	logged := func(err error) {
		if err != nil && ctx.Err() == nil {
			rl.log('E', err.Error())
		}
		done()
	}
	if err := rl.handle(ctx, c, l, o, listenIsA, forked, f, logged); err != errDetached {
		logged(err)
	}
}

// errDetached says a session goes on in the relay's loop, and will tell
// its end to the function handle was given.
var errDetached = errors.New("session detached")

// handle joins an accepted conn with the other address. A command on the
// other side gets the socket itself when nothing needs to see the bytes.
// A dual listening address (A!!B) reads the accepted conn and writes B.
// With ended set, a session that the relay's loop can take whole is
// handed to it: handle returns errDetached, and ended hears how the
// session ended, once it has.
func (rl *Relay) handle(ctx context.Context, c stream.Conn, l, o address.Spec, listenIsA, forked bool, f *Session, ended func(error)) error {
	if l.Writer != nil {
		w, err := rl.open(ctx, *l.Writer, forked)
		if err != nil {
			c.Close()
			return err
		}
		c = &stream.Dual{R: c, W: w}
	}
	if isCommand(o) && o.Writer == nil && l.Writer == nil &&
		rl.Options.Tap == nil && !rl.Watch.Taps() && rl.Options.Idle == 0 && !crlf(o) && !rl.Pipes {
		joined, err := Exec(ctx, rl.Command(o), c, rl.Options, f)
		if err != nil {
			return err
		}
		return joined
	}
	open := func() (stream.Conn, error) { return rl.open(ctx, o, forked) }
	var other stream.Conn
	var err error
	if dials(o.Kind) {
		other, err = onOwnStack(open)
	} else {
		other, err = open()
	}
	if err != nil {
		c.Close()
		f.Closed(relay.Stats{}, true, err)
		return err
	}
	f.Leg(other)
	if listenIsA {
		return rl.join(ctx, c, other, f, false, ended)
	}
	return rl.join(ctx, other, c, f, true, ended)
}

// dials says whether opening k connects over a network: the deep calls
// that onOwnStack keeps off a session's stack.
func dials(k address.Kind) bool {
	switch k {
	case address.TCP, address.OpenSSL, address.Socks4, address.Socks4A, address.Socks5, address.Proxy,
		address.UnixConnect, address.UnixClient, address.UDP, address.VsockConnect, address.SocketConnect:
		return true
	}
	return false
}

// onOwnStack runs open on a goroutine of its own and waits for it. A
// dial goes deep (resolver, dialer, socket options) and would grow the
// session's goroutine's stack to 16 KiB, which it then keeps for as long
// as the session waits in relay.Join; the dialling goroutine's stack goes
// with it, and a waiting session's stays at the few KiB it uses.
func onOwnStack(open func() (stream.Conn, error)) (stream.Conn, error) {
	type opened struct {
		c   stream.Conn
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		c, err := open()
		ch <- opened{c, err}
	}()
	o := <-ch
	return o.c, o.err
}

// join relays a (the first address) and b (the second); f tells the
// session's events, and its socket is b when socketIsB. With ended set
// and nothing watching, a session the relay's loop can take whole goes
// on there: join returns errDetached, and ended hears the outcome.
func (rl *Relay) join(ctx context.Context, a, b stream.Conn, f *Session, socketIsB bool, ended func(error)) error {
	if rl.Joining != nil {
		rl.Joining(a, b)
	}
	for _, sp := range []address.Spec{rl.A, rl.B} {
		if err := endpoint.DropPrivileges(sp, endpoint.PhaseDelayed); err != nil {
			a.Close()
			b.Close()
			return err
		}
	}
	rl.log('N', TransferStarting)
	opt := rl.Options
	if ended != nil && f == nil && relay.Start(ctx, a, b, opt, func(st relay.Stats, err error) { ended(rl.joined(st, err)) }) {
		return errDetached
	}
	st, err := f.Join(ctx, a, b, opt, Side{Name: "first", Description: rl.A.String()}, Side{Name: "second", Description: rl.B.String()}, socketIsB)
	return rl.joined(st, err)
}

// joined logs a session's end as socat does, and is the error it ended
// with, if socat would call it one.
func (rl *Relay) joined(st relay.Stats, err error) error {
	rl.log('N', fmt.Sprintf("transferred %d bytes left to right, %d right to left in %.3f s", st.AToB, st.BToA, st.Elapsed.Seconds()))
	rl.log('I', "the session's bytes went through "+st.Path.Describe())
	if errors.Is(err, relay.ErrIdle) {
		rl.log('N', "inactivity timeout (-T) expired")
		return nil // socat ends quietly and exits 0
	}
	if resetWhileReading(err) {
		rl.log('W', err.Error())
		return nil // socat warns (shown from -d -d on) and ends the transfer as at EOF, exit 0
	}
	return err
}

// resetWhileReading says whether err is a peer's reset met by a read:
// socat's xioread takes ECONNRESET for a warning, not an error.
func resetWhileReading(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNRESET) && errors.As(err, &op) && op.Op == "read"
}

// Listens says whether addresses of kind k listen (and accept).
func Listens(k address.Kind) bool {
	switch k {
	case address.TCPListen, address.UDPListen, address.UDPRecvfrom, address.UnixListen, address.UnixRecvfrom,
		address.OpenSSLListen, address.IPRecvfrom, address.SocketListen, address.VsockListen:
		return true
	}
	return false
}

func isCommand(sp address.Spec) bool { return sp.Kind == address.Exec || sp.Kind == address.System }

// crlf says whether sp converts line ends, which a command given the
// socket itself would not see done.
func crlf(sp address.Spec) bool {
	for _, n := range []string{"crlf", "cr"} {
		if v, ok := sp.Opt(n); ok && v != "0" {
			return true
		}
	}
	return false
}
