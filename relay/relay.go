// Package relay holds Join, sockit's one copy engine: it moves bytes both
// ways between two stream.Conns, turns EOF in one direction into a
// half-close on the other, and reports byte counts.
//
// When no transform is asked for, the bytes stay in the kernel: each
// direction's goroutine hands io.Copy the concrete conns (*net.TCPConn,
// *net.UnixConn, *os.File) so Linux splice and sendfile apply. With
// Options.Loop, two plain TCP or Unix stream sockets go instead to a loop
// (loop_linux.go): one goroutine per loop that waits on an epoll set of its
// own and splices through a pipe per direction, as socat's select loop
// does, without a trip through Go's scheduler per message.
package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sockit/sockit/stream"
)

// Direction limits which way bytes flow.
type Direction int

const (
	// Both copies a→b and b→a; the session ends when both are done.
	Both Direction = iota
	// AToB copies a→b only; b's input is read and discarded, and the
	// session ends when a reaches EOF (ncat --send-only).
	AToB
	// BToA copies b→a only; a is never read, and the session ends when b
	// reaches EOF (ncat --recv-only).
	BToA
)

// Options tunes Join. The zero value copies both ways with half-close.
type Options struct {
	// Direction limits the flow; default Both.
	Direction Direction
	// Discard, with Direction AToB, reads b and throws its bytes away
	// (ncat's --send-only still reads the socket); without it b is not
	// read at all, as with socat's -u.
	Discard bool
	// NoShutdown keeps the write half open on EOF (ncat --no-shutdown).
	NoShutdown bool
	// Idle ends the session with ErrIdle when no byte moves either way
	// for this long; 0 means never. Setting it disables splice.
	Idle time.Duration
	// CRLF turns a bare LF into CRLF on the a→b direction (ncat -C); an
	// LF that already follows a CR is left alone.
	CRLF bool
	// Delay waits this long after each write, both ways (ncat -d).
	Delay time.Duration
	// Tap, if set, sees every chunk after it is written: toB is true for
	// a→b. Setting it disables splice.
	Tap func(toB bool, p []byte)
	// Loop asks that two plain TCP or Unix stream sockets, with nothing
	// to transform, be moved by a loop of the relay's own on Linux
	// (loop_linux.go): socat's select loop, with no trip through Go's
	// scheduler per message. A busy loop holds one of the program's Ps
	// while its traffic flows, and up to a second after, so it suits a
	// program that is a relay, like sockit's; the default, a goroutine
	// per direction, shares the scheduler. Join falls back to goroutines
	// where the loop does not apply, or with GOMAXPROCS 1.
	Loop bool
	// Linger, when positive, ends the session this long after the first
	// direction reaches EOF even if the other has not (socat's -t, 0.5 s
	// there). Zero waits for both, so no byte is dropped.
	Linger time.Duration
	// EOF ends the session early once a given direction is done, as the
	// netcats do: ncat's listener quits when its client's stream ends,
	// nc -q 0 when stdin does. Empty (the default) waits for both.
	EOF []EOFRule
	// Progress, if set, hears when a direction moves its first byte
	// (FirstByte) and when it is done (EOF: its source ended, its
	// destination was shut down, n bytes moved), as events want them.
	// It keeps the kernel's paths: the loop engine tells its first bytes
	// as it moves them; with goroutines, Join moves the first chunk each
	// way itself, and splice the rest.
	Progress func(toB bool, step Step, n int64)
}

// Step is what Progress reports of a direction.
type Step int

// The steps of a direction.
const (
	FirstByte Step = iota // its first byte was written
	EOF                   // its source reached EOF and its destination was shut down
)

// EOFRule ends a session Grace after direction After is done (its
// source reached EOF and everything read was written), even if the other
// direction is still moving. After Both means whichever is done first.
type EOFRule struct {
	After Direction
	Grace time.Duration
}

// Stats counts what Join moved.
type Stats struct {
	AToB, BToA int64
	Elapsed    time.Duration
	Path       Path // how the bytes were moved
}

// Path names the engine that moved a session's bytes.
type Path string

// The paths.
const (
	// PathLoop is the relay's own epoll loop, splicing (Options.Loop).
	PathLoop Path = "loop"
	// PathKernel is a goroutine per direction handing the concrete conns
	// to io.Copy, so splice and sendfile apply where the conns allow.
	PathKernel Path = "goroutines"
	// PathEcho is Join's own goroutine reading the conn and writing back
	// what it read: a conn joined with a stream.Echo (socat's PIPE).
	PathEcho Path = "echo"
	// PathUserSpace is a goroutine per direction copying through a
	// buffer, because something must see or change the bytes (Tap, CRLF,
	// Delay, Idle).
	PathUserSpace Path = "user space"
)

// Describe says in words how a session's bytes moved (sockit relay's
// -d -d -d line).
func (p Path) Describe() string {
	switch p {
	case PathLoop:
		return "the relay's epoll loop (spliced in the kernel)"
	case PathKernel:
		return "a goroutine each way (spliced or sent in the kernel where the endpoints allow)"
	case PathEcho:
		return "the session's goroutine, echoing from memory"
	case PathUserSpace:
		return "a goroutine each way, through user space (an option sees or changes them)"
	}
	return string(p)
}

// ErrIdle is returned when the idle timeout fires.
var ErrIdle = errors.New("idle timeout expired")

// Join copies between a and b until the session ends, then closes both.
// It returns the first error that ended a direction, other than EOF, or
// ErrIdle, or the context's error. After such a failure, a direction that
// has not finished is not waited for, and its count in Stats stays zero.
func Join(ctx context.Context, a, b stream.Conn, opt Options) (Stats, error) {
	start := time.Now()
	var st Stats
	var last atomic.Int64
	last.Store(start.UnixNano())
	slow := opt.Idle > 0 || opt.Tap != nil || opt.Delay > 0
	done := make(chan result, 2)
	want := 0
	end := func() { a.Close(); b.Close() }
	var firsts chan bool // the loop engine's first bytes, for Progress
	if opt.Progress != nil {
		firsts = make(chan bool, 2)
	}
	looped := false
	if opt.Loop && opt.Direction == Both && !slow && !opt.CRLF {
		if stop, _, ok := spliceLoop(a, b, opt.NoShutdown, func(r result) { done <- r }, firsts); ok {
			end, want, looped = stop, 2, true
		}
	}
	if !looped {
		firsts = nil
	}
	// tellFirsts passes the loop's first bytes on to Progress.
	tellFirsts := func() {
		for {
			select {
			case toB := <-firsts:
				opt.Progress(toB, FirstByte, 0)
			default:
				return
			}
		}
	}
	var once sync.Once
	closeAll := func() { once.Do(end) }
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	if c, ok := echoed(a, b); ok && !looped && opt.Direction == Both && !slow && !opt.CRLF && opt.Progress == nil {
		// A conn joined with an Echo: read it and write back, on this
		// goroutine, with none for the Echo's two sides.
		n, err := echoBack(c, opt.NoShutdown)
		closeAll()
		st = Stats{AToB: n, BToA: n, Elapsed: time.Since(start), Path: PathEcho}
		switch {
		case err != nil && ctx.Err() != nil:
			return st, ctx.Err() // the cancel closed the conn under it
		case err != nil && !ignorable(err):
			return st, err
		}
		return st, nil
	}

	var copied [2]atomic.Int64 // by toB: what a direction moved, once its copy is done
	copiedOf := func(toB bool) *atomic.Int64 {
		if toB {
			return &copied[1]
		}
		return &copied[0]
	}
	run := func(toB bool, dst, src stream.Conn, crlf bool) {
		want++
		go func() {
			var w io.Writer = writerOf(dst)
			var r io.Reader = readerOf(src)
			var n int64
			var err error
			eof := false
			if slow || crlf {
				w = &hookWriter{w: dst, toB: toB, opt: opt, last: &last, crlf: crlf}
				r = src
			} else if opt.Progress != nil {
				n, eof, err = firstChunk(w, r, toB, opt.Progress)
			}
			if !eof && err == nil {
				var m int64
				m, err = copyStream(w, r)
				n += m
			}
			if err == nil {
				// Counted before the half-close that may make the peer
				// answer and end the session, so Stats holds it even if an
				// EOF rule ends Join before this direction reports.
				copiedOf(toB).Store(n)
			}
			if err == nil && !opt.NoShutdown {
				if cerr := dst.CloseWrite(); cerr != nil && !ignorable(cerr) {
					err = cerr
				}
			}
			if err == nil && opt.Progress != nil {
				opt.Progress(toB, EOF, n)
			}
			done <- result{toB, n, err}
		}()
	}
	switch {
	case want > 0:
		// The loop engine moves both directions.
	case opt.Direction == Both:
		run(true, b, a, opt.CRLF)
		run(false, a, b, false)
	case opt.Direction == AToB:
		run(true, b, a, opt.CRLF)
		if opt.Discard {
			go io.Copy(io.Discard, readerOf(b)) //nolint:errcheck // discarded by design
		}
	case opt.Direction == BToA:
		run(false, a, b, false)
	}

	var idle <-chan time.Time
	if opt.Idle > 0 {
		tick := time.NewTicker(opt.Idle / 4)
		defer tick.Stop()
		idle = tick.C
	}
	var first error
	ctxDone := ctx.Done()
	var linger <-chan time.Time
	lingering := false
	rules := opt.EOF
	if opt.Linger > 0 {
		rules = append(rules[:len(rules):len(rules)], EOFRule{After: Both, Grace: opt.Linger})
	}
	// Wait for every direction, unless the session failed: then both conns
	// are closed, which wakes any pollable read, and Join returns without
	// waiting on a read that closing cannot interrupt (a terminal).
	got := 0
	var lingerTimer *time.Timer
	onResult := func(r result) {
		got++
		if looped && opt.Progress != nil {
			tellFirsts() // sent before the result: never after its EOF
			if r.err == nil {
				opt.Progress(r.toB, EOF, r.n)
			}
		}
		if r.toB {
			st.AToB = r.n
		} else {
			st.BToA = r.n
		}
		if r.err != nil && !ignorable(r.err) {
			first = r.err
			if ctx.Err() != nil {
				first = ctx.Err() // the cancel closed the conns under it: that is why
			}
		}
		if got < want && !lingering {
			if grace, ok := eofGrace(rules, r.toB); ok {
				lingering = true
				lingerTimer = time.NewTimer(grace)
				linger = lingerTimer.C
			}
		}
	}
	defer func() {
		if lingerTimer != nil {
			lingerTimer.Stop()
		}
	}()
	for got < want && first == nil {
		select {
		case toB := <-firsts:
			opt.Progress(toB, FirstByte, 0)
		case r := <-done:
			onResult(r)
		case <-idle:
			if time.Since(time.Unix(0, last.Load())) >= opt.Idle {
				first = ErrIdle
			}
		case <-ctxDone:
			// A direction that ended as the context did has ended: its
			// result, if it is in, wins over the cancel.
			for drained := false; !drained && got < want; {
				select {
				case r := <-done:
					onResult(r)
				default:
					drained = true
				}
			}
			if got < want && first == nil {
				first = ctx.Err()
			}
		case <-linger:
			// The other direction had its time; end cleanly.
			got = want
		}
	}
	closeAll()
	if first != nil {
		// The session failed, and closing woke the other directions: keep
		// what they moved, if they tell it soon (a terminal's read may
		// never return).
		t := time.NewTimer(failedCount)
		for ; got < want; got++ {
			select {
			case r := <-done:
				if r.toB {
					st.AToB = max(st.AToB, r.n)
				} else {
					st.BToA = max(st.BToA, r.n)
				}
			case <-t.C:
				got = want
			}
		}
		t.Stop()
	}
	if first == nil {
		// A direction an EOF rule did not wait for may still have finished.
		st.AToB = max(st.AToB, copied[1].Load())
		st.BToA = max(st.BToA, copied[0].Load())
	}
	st.Elapsed = time.Since(start)
	switch {
	case looped:
		st.Path = PathLoop
	case slow || opt.CRLF:
		st.Path = PathUserSpace
	default:
		st.Path = PathKernel
	}
	return st, first
}

// Start begins the session Join would run and returns at once, when the
// loop engine (Options.Loop) can take it whole: both ways, two plain
// sockets, nothing to transform or to tell (no Progress, Tap, CRLF,
// Delay, Idle or EOF rules; Linger is kept). done then hears what Join
// would have returned, on a goroutine of its own, once both sockets are
// closed. Otherwise Start returns false having touched nothing, and the
// caller joins as usual.
//
// A session so started holds no goroutine while it lives: an idle one
// costs its two sockets and its few hundred bytes in the loop.
func Start(ctx context.Context, a, b stream.Conn, opt Options, done func(Stats, error)) bool {
	if !opt.Loop || opt.Direction != Both || opt.Progress != nil || opt.Tap != nil || opt.CRLF ||
		opt.Delay > 0 || opt.Idle > 0 || len(opt.EOF) > 0 {
		return false
	}
	d := &detached{ctx: ctx, linger: opt.Linger, done: done, start: time.Now()}
	d.mu.Lock() // until stop, closed and unhook are set: the loop may report at once
	defer d.mu.Unlock()
	stop, closed, ok := spliceLoop(a, b, opt.NoShutdown, d.result, nil)
	if !ok {
		return false
	}
	d.stop, d.closed, d.unhook = stop, closed, context.AfterFunc(ctx, stop)
	return true
}

// detached is a session Start handed to the loop: one allocation, so
// that an idle session costs little.
type detached struct {
	ctx    context.Context
	linger time.Duration
	done   func(Stats, error)
	start  time.Time

	mu     sync.Mutex // held by Start while it sets the three below
	stop   func()
	closed <-chan struct{}
	unhook func() bool

	// The loop goroutine's, until the second result hands them on.
	st       Stats
	first    error
	cut      bool // a direction was ended before its EOF
	got      int
	timer    *time.Timer // socat's -t, once a direction is done
	lingered atomic.Bool // the timer ended the session
}

// result takes a direction's outcome, on the loop's goroutine; the
// second finishes the session.
func (d *detached) result(r result) {
	d.got++
	if r.toB {
		d.st.AToB = r.n
	} else {
		d.st.BToA = r.n
	}
	d.cut = d.cut || r.err != nil
	if d.first == nil && r.err != nil && !ignorable(r.err) {
		d.first = r.err
	}
	if d.got == 1 && r.err == nil && d.linger > 0 {
		// The other direction has this long, then the session ends
		// cleanly.
		d.timer = time.AfterFunc(d.linger, func() {
			d.mu.Lock()
			stop := d.stop
			d.mu.Unlock()
			d.lingered.Store(true)
			stop()
		})
	}
	if d.got == 2 {
		go d.finish()
	}
}

// finish tells done, once the session's sockets are closed.
func (d *detached) finish() {
	d.mu.Lock()
	closed, unhook := d.closed, d.unhook
	d.mu.Unlock()
	<-closed
	unhook()
	if d.timer != nil {
		d.timer.Stop()
	}
	if d.cut && d.ctx.Err() != nil && !d.lingered.Load() {
		d.first = d.ctx.Err() // the cancel ended it, or closed its sockets under it
	}
	d.st.Elapsed, d.st.Path = time.Since(d.start), PathLoop
	d.done(d.st, d.first)
}

// eofGrace is the shortest grace of the rules that a direction's end
// (a→b when toB) starts.
func eofGrace(rules []EOFRule, toB bool) (time.Duration, bool) {
	var grace time.Duration
	found := false
	for _, r := range rules {
		if r.After == Both || (r.After == AToB) == toB {
			if !found || r.Grace < grace {
				grace, found = r.Grace, true
			}
		}
	}
	return grace, found
}

// failedCount is how long a failed session waits for its other
// directions' counts once its conns are closed.
const failedCount = 100 * time.Millisecond

// result is how one direction ended: toB is a→b, n the bytes written.
type result struct {
	toB bool
	n   int64
	err error
}

// copyStream is io.Copy plus the one kernel path Go lacks (pipe → socket),
// and an Echo's own copies, which io.Copy would pass over for a socket's.
func copyStream(dst io.Writer, src io.Reader) (int64, error) {
	if n, handled, err := spliceFromPipe(dst, src); handled {
		return n, err
	}
	if e, ok := dst.(*stream.Echo); ok {
		return e.ReadFrom(src)
	}
	if e, ok := src.(*stream.Echo); ok {
		return e.WriteTo(dst)
	}
	return io.Copy(dst, src)
}

// echoed is the conn of a and b that is joined with a stream.Echo, if
// the other is one (and it is not one itself).
func echoed(a, b stream.Conn) (stream.Conn, bool) {
	_, aEcho := a.(*stream.Echo)
	_, bEcho := b.(*stream.Echo)
	switch {
	case bEcho && !aEcho:
		return a, true
	case aEcho && !bEcho:
		return b, true
	}
	return nil, false
}

// echoBufs lends echoBack its buffers: a forking relay in front of PIPE
// allocates none per client.
var echoBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// echoBack writes back to c what it reads from c until EOF, then shuts
// c's write side (unless noShutdown); n is what it wrote. A socket is
// waited on before a buffer is taken for each read, so that an idle
// session holds none.
func echoBack(c stream.Conn, noShutdown bool) (n int64, err error) {
	r := readerOf(c)
	for {
		if err := awaitReadable(r); err != nil {
			return n, err
		}
		bp := echoBufs.Get().(*[]byte)
		m, rerr := c.Read(*bp)
		if m > 0 {
			if _, err := c.Write((*bp)[:m]); err != nil {
				echoBufs.Put(bp)
				return n, err
			}
			n += int64(m)
		}
		echoBufs.Put(bp)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, rerr
		}
	}
	if !noShutdown {
		if err := c.CloseWrite(); err != nil && !ignorable(err) {
			return n, err
		}
	}
	return n, nil
}

// readerOf and writerOf are the concrete reader and writer behind c, for
// the kernel fast paths.
func readerOf(c stream.Conn) io.Reader { return stream.ReaderOf(c) }
func writerOf(c stream.Conn) io.Writer { return stream.WriterOf(c) }

// ignorable reports errors that only say the session already ended.
func ignorable(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) ||
		errors.Is(err, syscall.ENOTCONN) || errors.Is(err, io.ErrClosedPipe)
}

// firstChunk moves the first bytes of a direction, up to one read, and
// tells Progress; eof says the source ended before any.
func firstChunk(w io.Writer, r io.Reader, toB bool, progress func(bool, Step, int64)) (n int64, eof bool, err error) {
	buf := make([]byte, 16<<10)
	for {
		m, rerr := r.Read(buf)
		if m > 0 {
			if _, err := w.Write(buf[:m]); err != nil {
				return 0, false, err
			}
			progress(toB, FirstByte, int64(m))
			return int64(m), rerr == io.EOF, ignoreEOF(rerr)
		}
		if rerr != nil {
			return 0, rerr == io.EOF, ignoreEOF(rerr)
		}
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// hookWriter applies the slow-path options to one direction.
type hookWriter struct {
	w    io.Writer
	toB  bool
	opt  Options
	last *atomic.Int64
	crlf bool
	prev byte // the last byte written, so a CR that ended the last chunk counts
	buf  []byte
	some bool // a byte was written
}

func (h *hookWriter) Write(p []byte) (int, error) {
	h.last.Store(time.Now().UnixNano())
	out := p
	if h.crlf {
		h.buf = h.buf[:0]
		for _, c := range p {
			if c == '\n' && h.prev != '\r' {
				h.buf = append(h.buf, '\r')
			}
			h.buf = append(h.buf, c)
			h.prev = c
		}
		out = h.buf
	}
	if _, err := h.w.Write(out); err != nil {
		return 0, err
	}
	if h.opt.Tap != nil {
		h.opt.Tap(h.toB, out)
	}
	if !h.some && len(out) > 0 {
		h.some = true
		if h.opt.Progress != nil {
			h.opt.Progress(h.toB, FirstByte, int64(len(out)))
		}
	}
	if h.opt.Delay > 0 {
		time.Sleep(h.opt.Delay)
	}
	return len(p), nil
}
