package relay

// The loop engine. With Options.Loop, a session between two plain stream
// sockets (TCP or Unix) with nothing to transform is handed to a loop: one goroutine that owns an
// epoll set and its sessions' sockets and splices between them through a
// pipe per direction. Per message that is epoll_wait, splice in and splice
// out, as socat's select loop, with no park and wake through Go's
// scheduler between them.
//
// Why: on the 2-core bench machine the goroutine-per-direction path moved
// bytes as fast, but its round-trip p99 for 64-byte messages was 6–12 %
// worse than socat's (BENCHMARKS.md). Each message woke Go's netpoller
// thread, which readied the copying goroutine, which probed for more with
// an extra splice before parking again.
//
// How the loop waits: for holdFor after its last event it calls epoll_wait
// as a raw syscall, keeping its P, so a wake-up costs what it costs socat.
// Quiet for longer, it blocks in an ordinary syscall instead and gives its
// P back, so an idle relay costs the Go scheduler nothing. (A shorter hold,
// 2 ms, put the slow wake-up on the first message of every burst, and the
// bench's p99 fell back behind socat's.) The loop yields at least every
// yieldEvery so the scheduler never has to preempt it by signal, and it is
// used only while GOMAXPROCS leaves another P for the rest of the program.
// A loop with no sessions ends.
//
// The sockets are duplicated and the originals closed, which takes them out
// of Go's netpoller: otherwise every event would also wake its thread.

import (
	"cmp"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	// holdFor is how long after its last event the loop waits with its P
	// held, in slices of waitSlice milliseconds.
	holdFor   = time.Second
	waitSlice = 5
	// yieldEvery bounds how long the loop runs without a scheduling point:
	// well under the 10 ms after which Go's sysmon preempts by signal.
	yieldEvery = 5 * time.Millisecond
	// pipeSize is what the loop asks of each pipe (Go's own splice uses
	// 1 MiB pipes too); a smaller pipe still works, in more calls.
	pipeSize = 1 << 20
	// freePipes bounds the empty pipes a loop keeps for its next sessions.
	freePipes = 32
	// copyBuffer is a flow's buffer when it has no pipe.
	copyBuffer = 64 << 10
)

// loops is the process's set of loops, started on demand. Like Go's own
// pool of splice pipes in internal/poll, it is shared by every Join.
var loops loopSet

type loopSet struct {
	mu  sync.Mutex
	all []*loop
}

// get returns a loop with a session reserved on it, starting one when
// there is room for another, or nil when the loop engine cannot be used.
func (ls *loopSet) get() *loop {
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		return nil // the loop would hold the program's only P
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	var best *loop
	for _, l := range ls.all {
		if best == nil || l.sessions < best.sessions {
			best = l
		}
	}
	// Half the Ps at most: each busy loop holds one.
	if best == nil || (best.sessions > 0 && len(ls.all) < procs/2) {
		if l, err := newLoop(); err == nil {
			ls.all = append(ls.all, l)
			go l.run()
			best = l
		}
	}
	if best == nil {
		return nil // no loop could be made: the goroutines will do
	}
	best.sessions++
	return best
}

// remove takes l out of the set; ls.mu is held.
func (ls *loopSet) remove(l *loop) {
	for i, o := range ls.all {
		if o == l {
			ls.all = append(ls.all[:i], ls.all[i+1:]...)
			return
		}
	}
}

// loop is one epoll set and the sessions in it. Only its goroutine touches
// the sessions' descriptors; other goroutines talk to it through inbox and
// drops, and wake it through the eventfd.
type loop struct {
	epfd, wake int
	sessions   int // guarded by loops.mu

	mu    sync.Mutex
	inbox []*loopSession // new sessions
	drops []*loopSession // sessions their Join ended
	dead  bool           // the loop has ended; its descriptors are closed

	// The loop goroutine's own.
	byFd      map[int32]*loopSession
	pipes     [][2]int
	evs       []unix.EpollEvent
	lastEvent time.Time // when the last wait returned events
	lastYield time.Time // when the loop last let the scheduler in
	endedSome bool      // a session ended since the loop last looked
}

func newLoop() (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, err
	}
	return &loop{epfd: epfd, wake: wake, byFd: map[int32]*loopSession{}, evs: make([]unix.EpollEvent, 128)}, nil
}

// poke wakes the loop; l.mu is held, so the loop has not closed wake.
func (l *loop) poke() {
	one := [8]byte{1}
	unix.Write(l.wake, one[:]) //nolint:errcheck // a full counter wakes it too
}

// flow is one direction of a session: src spliced into a pipe, the pipe
// into dst.
type flow struct {
	toB      bool
	src, dst int
	pipe     [2]int // read end, write end; -1 until the first byte
	buf      []byte // instead of the pipe when none could be had
	off      int    // where the queued bytes start in buf
	queued   int    // bytes in the pipe or buf
	n        int64  // bytes written to dst
	eof      bool   // src reached EOF
	done     bool   // EOF passed on (or kept, with NoShutdown) and reported
	reported bool   // its result is told: once per flow
}

// loopSession is one Join's pair of sockets on a loop.
type loopSession struct {
	l          *loop
	a, b       int               // the duplicated sockets
	peers      [2]netip.AddrPort // a's and b's TCP peers, for errors (zero for Unix)
	unixA      bool              // a's (and b's, which may differ) network is unix, for errors
	unixB      bool
	evA, evB   uint32 // events registered for a and b; 0 when not in the set
	ab, ba     flow
	noShutdown bool
	results    func(result)  // told each flow's outcome, on the loop's goroutine; must not block
	firsts     chan<- bool   // if not nil, told each direction's first byte (toB), once; room for both
	closed     chan struct{} // closed once the loop has closed a and b
	ended      bool          // loop goroutine's view: resources released
}

// spliceLoop hands a and b to a loop if both are plain TCP or Unix stream
// sockets and the platform allows it. On success a and b are closed (their
// duplicates live on in the loop), results hears each direction's outcome
// as the goroutine path would send it (after its first byte on firsts,
// when firsts is set), stop ends the session and returns once its sockets
// are closed, and closed is closed then.
func spliceLoop(a, b any, noShutdown bool, results func(result), firsts chan<- bool) (stop func(), closed <-chan struct{}, ok bool) {
	ra, ca := plainSocket(a)
	rb, cb := plainSocket(b)
	if ra == nil || rb == nil {
		return nil, nil, false
	}
	l := loops.get()
	if l == nil {
		return nil, nil, false
	}
	fa, erra := dupFd(ra)
	fb, errb := dupFd(rb)
	if erra != nil || errb != nil {
		if erra == nil {
			unix.Close(fa)
		}
		if errb == nil {
			unix.Close(fb)
		}
		l.release()
		return nil, nil, false
	}
	// The originals leave Go's netpoller; the sockets live on in fa, fb.
	ca.Close()
	cb.Close()
	s := &loopSession{
		l: l, a: fa, b: fb, noShutdown: noShutdown, results: results, firsts: firsts,
		unixA: ca.LocalAddr().Network() == "unix", unixB: cb.LocalAddr().Network() == "unix",
		peers:  [2]netip.AddrPort{tcpPeer(ca), tcpPeer(cb)},
		closed: make(chan struct{}),
		ab:     flow{toB: true, src: fa, dst: fb, pipe: [2]int{-1, -1}},
		ba:     flow{src: fb, dst: fa, pipe: [2]int{-1, -1}},
	}
	l.mu.Lock()
	l.inbox = append(l.inbox, s)
	l.poke()
	l.mu.Unlock()
	return s.stop, s.closed, true
}

// plainSocket returns the raw conn of a *net.TCPConn or a stream
// *net.UnixConn, and the conn itself to close; nil for anything else.
func plainSocket(c any) (syscall.RawConn, net.Conn) {
	var raw syscall.RawConn
	var err error
	switch c := c.(type) {
	case *net.TCPConn:
		raw, err = c.SyscallConn()
	case *net.UnixConn:
		if c.LocalAddr().Network() != "unix" {
			return nil, nil
		}
		raw, err = c.SyscallConn()
	default:
		return nil, nil
	}
	if err != nil {
		return nil, nil
	}
	return raw, c.(net.Conn)
}

// dupFd duplicates the socket behind rc, close-on-exec. The duplicate
// shares the original's non-blocking mode.
func dupFd(rc syscall.RawConn) (int, error) {
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	return nfd, derr
}

// release gives back a session reserved by get that never started.
func (l *loop) release() {
	loops.mu.Lock()
	l.sessions--
	loops.mu.Unlock()
	l.mu.Lock()
	l.poke() // let an empty loop notice and end
	l.mu.Unlock()
}

// stop ends the session, if the loop has not ended it already, and waits
// until its sockets are closed.
func (s *loopSession) stop() {
	l := s.l
	l.mu.Lock()
	if l.dead {
		l.mu.Unlock()
		return
	}
	select {
	case <-s.closed:
		l.mu.Unlock()
		return
	default:
	}
	l.drops = append(l.drops, s)
	l.poke()
	l.mu.Unlock()
	<-s.closed
}

// run is the loop goroutine.
func (l *loop) run() {
	l.lastEvent, l.lastYield = time.Now(), time.Now()
	for {
		n, err := l.wait()
		if err != nil && err != unix.EINTR {
			l.abort(os.NewSyscallError("epoll_wait", err))
			return
		}
		if l.lastEvent.Sub(l.lastYield) > yieldEvery || err == unix.EINTR {
			l.yield()
		}
		for _, ev := range l.evs[:n] {
			if int(ev.Fd) == l.wake {
				if !l.inboxes() {
					return
				}
				continue
			}
			if s := l.byFd[ev.Fd]; s != nil {
				s.handle(int(ev.Fd), ev.Events)
			}
		}
		if l.endedSome {
			l.endedSome = false
			if l.endIfEmpty() {
				return
			}
		}
	}
}

// wait returns the next events. For holdFor after the last event it waits
// with its P held, in slices of at most waitSlice with a scheduling point
// between them; after that, as an ordinary blocking syscall.
func (l *loop) wait() (int, error) {
	for time.Since(l.lastEvent) < holdFor {
		r, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(l.epfd), // with no signal mask: epoll_wait, which arm64 lacks
			uintptr(unsafe.Pointer(&l.evs[0])), uintptr(len(l.evs)), waitSlice, 0, 0)
		switch {
		case e == unix.EINTR || (e == 0 && r == 0):
			l.yield()
		case e != 0:
			return 0, e
		default:
			l.lastEvent = time.Now()
			return int(r), nil
		}
	}
	n, err := unix.EpollWait(l.epfd, l.evs, -1)
	l.lastEvent = time.Now()
	return n, err
}

// abort ends every session with err, and then the loop. Only an epoll_wait
// that fails for a reason other than a signal, which would be a bug, gets
// here.
func (l *loop) abort(err error) {
	loops.mu.Lock()
	loops.remove(l) // no new sessions
	loops.mu.Unlock()
	for {
		l.mu.Lock()
		in := l.inbox
		l.inbox, l.drops = nil, nil
		l.mu.Unlock()
		for _, s := range in {
			s.begin()
		}
		for _, s := range l.byFd {
			if !s.ended {
				s.report(&s.ab, err)
				s.end()
			}
		}
		loops.mu.Lock()
		left := l.sessions
		loops.mu.Unlock()
		if left == 0 {
			break
		}
		time.Sleep(time.Millisecond) // a session reserved but not yet in the inbox
	}
	l.endIfEmpty()
}

// yield lets the scheduler run whatever waits for this P.
func (l *loop) yield() {
	runtime.Gosched()
	l.lastYield = time.Now()
}

// inboxes takes new sessions and drops, and reports false when the loop
// has no session left and has ended.
func (l *loop) inboxes() bool {
	var buf [8]byte
	unix.Read(l.wake, buf[:]) //nolint:errcheck // EAGAIN: already drained
	l.mu.Lock()
	in, drops := l.inbox, l.drops
	l.inbox, l.drops = nil, nil
	l.mu.Unlock()
	for _, s := range in {
		s.begin()
	}
	for _, s := range drops {
		s.end()
	}
	return !l.endIfEmpty()
}

// endIfEmpty ends the loop when no session is in it or reserved on it.
func (l *loop) endIfEmpty() bool {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	if l.sessions > 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.inbox) > 0 || len(l.drops) > 0 {
		return false
	}
	loops.remove(l)
	l.dead = true
	for _, p := range l.pipes {
		unix.Close(p[0])
		unix.Close(p[1])
	}
	unix.Close(l.epfd)
	unix.Close(l.wake)
	return true
}

// begin registers a new session and moves whatever is already waiting.
func (s *loopSession) begin() {
	s.l.byFd[int32(s.a)] = s
	s.l.byFd[int32(s.b)] = s
	s.update()
}

// report sends f's result to Join, once.
func (s *loopSession) report(f *flow, err error) {
	if f.reported {
		return
	}
	f.reported = true
	s.results(result{f.toB, f.n, err})
}

// handle moves what an event on fd allows.
func (s *loopSession) handle(fd int, ev uint32) {
	const readable = unix.EPOLLIN | unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLRDHUP
	const writable = unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLERR
	for _, f := range [2]*flow{&s.ab, &s.ba} {
		if f.done {
			continue
		}
		if (f.src == fd && ev&readable != 0 && f.queued == 0) || (f.dst == fd && ev&writable != 0 && f.queued > 0) {
			if err := s.pump(f); err != nil {
				s.report(f, err)
				s.end()
				return
			}
		}
	}
	if s.ab.done && s.ba.done {
		s.end()
		return
	}
	s.update()
}

// pump moves bytes from src to dst until one of them must be waited for,
// and passes EOF on once nothing is queued.
func (s *loopSession) pump(f *flow) error {
	if f.queued == 0 && !f.eof {
		n, err := s.fill(f)
		switch {
		case err == unix.EAGAIN:
			s.l.putPipe(f)
			return nil // wait for src
		case err != nil:
			return s.opError(f, "read", f.src, err)
		case n == 0:
			f.eof = true
		}
		f.queued = n
	}
	for f.queued > 0 {
		n, err := s.drain(f)
		switch {
		case err == unix.EAGAIN:
			return nil // wait for dst
		case err != nil:
			return s.opError(f, "write", f.dst, err)
		}
		f.queued -= n
		if f.n == 0 && n > 0 && s.firsts != nil {
			select {
			case s.firsts <- f.toB:
			default:
			}
		}
		f.n += int64(n)
	}
	// Drained: the pipe (or buffer) goes back until bytes come again, so
	// that an idle session holds its two sockets and nothing else.
	s.l.putPipe(f)
	if f.eof {
		if !s.noShutdown {
			if err := unix.Shutdown(f.dst, unix.SHUT_WR); err != nil && err != unix.ENOTCONN {
				return s.opError(f, "shutdown", f.dst, err)
			}
		}
		f.done = true
		s.report(f, nil)
	}
	// The source is likely drained; level-triggered epoll says if not.
	return nil
}

// fill takes what src has into the flow's pipe, or into its buffer when no
// pipe could be had (out of descriptors: the session still runs).
func (s *loopSession) fill(f *flow) (int, error) {
	if f.pipe[0] < 0 && f.buf == nil {
		p, err := s.l.pipe()
		if err != nil {
			f.buf = make([]byte, copyBuffer)
		} else {
			f.pipe = p
		}
	}
	for {
		var n int
		var err error
		if f.buf != nil {
			n, err = unix.Read(f.src, f.buf)
			f.off = 0
		} else {
			var n64 int64
			n64, err = unix.Splice(f.src, nil, f.pipe[1], nil, pipeSize, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			n = int(n64)
		}
		if err != unix.EINTR {
			return n, err
		}
	}
}

// drain writes what the flow holds to dst.
func (s *loopSession) drain(f *flow) (int, error) {
	for {
		var n int
		var err error
		if f.buf != nil {
			n, err = unix.Write(f.dst, f.buf[f.off:f.off+f.queued])
			if err == nil {
				f.off += n
			}
		} else {
			var n64 int64
			n64, err = unix.Splice(f.pipe[0], nil, f.dst, nil, f.queued, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			n = int(n64)
		}
		if err != unix.EINTR {
			return n, err
		}
	}
}

// opError describes a failed call on fd as Go's net package would. The
// addresses are read from the socket then, so that a session does not
// keep them (or its closed originals) for its life.
func (s *loopSession) opError(f *flow, op string, fd int, err error) error {
	network := "tcp"
	if (fd == s.a && s.unixA) || (fd == s.b && s.unixB) {
		network = "unix"
	}
	call := "splice"
	if op == "shutdown" || f.buf != nil {
		call = op
	}
	oe := &net.OpError{Op: op, Net: network, Err: os.NewSyscallError(call, err)}
	if sa, err := unix.Getsockname(fd); err == nil {
		oe.Source = sockaddrAddr(sa)
	}
	peer := s.peers[0]
	if fd == s.b {
		peer = s.peers[1]
	}
	if peer.IsValid() {
		oe.Addr = net.TCPAddrFromAddrPort(peer)
	} else if sa, err := unix.Getpeername(fd); err == nil {
		oe.Addr = sockaddrAddr(sa)
	}
	return oe
}

// tcpPeer is c's remote address if it is TCP.
func tcpPeer(c net.Conn) netip.AddrPort {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

// sockaddrAddr is sa as a net.Addr: a *net.TCPAddr or a *net.UnixAddr.
func sockaddrAddr(sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		a := &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: sa.Name, Net: "unix"}
	}
	return nil
}

// update brings the epoll set in line with what each socket waits for.
// A socket the loop cannot watch ends the session, which would otherwise
// wait forever.
func (s *loopSession) update() {
	var errA, errB error
	s.evA, errA = s.l.register(s.a, s.evA, s.interest(s.a))
	s.evB, errB = s.l.register(s.b, s.evB, s.interest(s.b))
	if err := cmp.Or(errA, errB); err != nil {
		s.report(&s.ab, os.NewSyscallError("epoll_ctl", err))
		s.end()
	}
}

// interest is what fd waits for: readable when a flow reads it and its pipe
// is empty, writable when a flow writes it and has bytes queued.
func (s *loopSession) interest(fd int) uint32 {
	var ev uint32
	for _, f := range [2]*flow{&s.ab, &s.ba} {
		switch {
		case f.done:
		case f.src == fd && f.queued == 0 && !f.eof:
			ev |= unix.EPOLLIN | unix.EPOLLRDHUP
		case f.dst == fd && f.queued > 0:
			ev |= unix.EPOLLOUT
		}
	}
	return ev
}

// register changes fd's events from cur to want. A socket that waits for
// nothing leaves the set, since epoll would report its hang-up forever.
func (l *loop) register(fd int, cur, want uint32) (uint32, error) {
	if cur == want {
		return cur, nil
	}
	ev := &unix.EpollEvent{Events: want, Fd: int32(fd)}
	var err error
	switch {
	case cur == 0:
		err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, ev)
	case want == 0:
		err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	default:
		err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_MOD, fd, ev)
	}
	if err != nil {
		return cur, err
	}
	return want, nil
}

// end releases the session: its sockets leave the set and are closed, and
// its pipes go back to the loop.
func (s *loopSession) end() {
	if s.ended {
		return
	}
	s.ended = true
	// What a flow the session's end cut short had moved still counts.
	s.report(&s.ab, net.ErrClosed)
	s.report(&s.ba, net.ErrClosed)
	l := s.l
	l.register(s.a, s.evA, 0) //nolint:errcheck // closing a removes it anyway
	l.register(s.b, s.evB, 0) //nolint:errcheck // and b
	delete(l.byFd, int32(s.a))
	delete(l.byFd, int32(s.b))
	unix.Close(s.a)
	unix.Close(s.b)
	l.putPipe(&s.ab)
	l.putPipe(&s.ba)
	close(s.closed)
	l.endedSome = true
	loops.mu.Lock()
	l.sessions--
	loops.mu.Unlock()
}

// pipe returns an empty pipe, from the loop's free list or new.
func (l *loop) pipe() ([2]int, error) {
	if n := len(l.pipes); n > 0 {
		p := l.pipes[n-1]
		l.pipes = l.pipes[:n-1]
		return p, nil
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return p, err
	}
	unix.FcntlInt(uintptr(p[0]), unix.F_SETPIPE_SZ, pipeSize) //nolint:errcheck // a smaller pipe still works
	return p, nil
}

// putPipe takes f's pipe back: kept when empty and there is room, else
// closed. A flow without a pipe lets its buffer go, when it is empty.
func (l *loop) putPipe(f *flow) {
	if f.queued == 0 {
		f.buf = nil
	}
	if f.pipe[0] < 0 {
		return
	}
	if f.queued == 0 && len(l.pipes) < freePipes {
		l.pipes = append(l.pipes, f.pipe)
	} else {
		unix.Close(f.pipe[0])
		unix.Close(f.pipe[1])
	}
	f.pipe = [2]int{-1, -1}
}
