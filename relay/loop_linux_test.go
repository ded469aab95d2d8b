package relay_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
	"golang.org/x/sys/unix"
)

// openFDs counts this process's descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// waitLoopsDone waits until no loop runs, the goroutines are back to
// goroutines and the descriptors to fds.
func waitLoopsDone(t *testing.T, goroutines, fds int) {
	t.Helper()
	for i := 0; ; i++ {
		running, sessions := relay.LoopStats()
		n := openFDs(t)
		if running == 0 && sessions == 0 && runtime.NumGoroutine() <= goroutines && n <= fds {
			return
		}
		if i == 500 {
			t.Fatalf("after the sessions: %d loops, %d sessions, %d goroutines (want %d), %d descriptors (want %d)",
				running, sessions, runtime.NumGoroutine(), goroutines, n, fds)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// join runs relay.Join in the background.
func join(ctx context.Context, a, b stream.Conn, opt relay.Options) <-chan joined {
	ch := make(chan joined, 1)
	go func() {
		st, err := relay.Join(ctx, a, b, opt)
		ch <- joined{st, err}
	}()
	return ch
}

// ended checks that each peer's connection has ended, with nothing more
// to read, and closes it.
func ended(t *testing.T, when string, peers ...stream.Conn) {
	t.Helper()
	for _, c := range peers {
		if rest, err := io.ReadAll(c); err != nil || len(rest) > 0 {
			t.Fatalf("%s: %q, %v", when, rest, err)
		}
		c.Close()
	}
}

// TestLoopCarriesPlainSockets: two plain stream sockets go to a loop, which
// ends with its last session and leaves no goroutine or descriptor behind.
func TestLoopCarriesPlainSockets(t *testing.T) {
	for _, nets := range [][2]string{{"tcp", "tcp"}, {"tcp", "unix"}, {"unix", "unix"}} {
		t.Run(nets[0]+"-"+nets[1], func(t *testing.T) {
			goroutines, fds := runtime.NumGoroutine(), openFDs(t)
			a, b := socketPair(t, nets[0]), socketPair(t, nets[1])
			done := join(context.Background(), a.inner, b.inner, relay.Options{Loop: true})
			echoOnce(t, a.outer, b.outer, "ping")
			echoOnce(t, b.outer, a.outer, "pong")
			if running, sessions := relay.LoopStats(); running != 1 || sessions != 1 {
				t.Fatalf("%d loops with %d sessions, want the session on one loop", running, sessions)
			}
			a.outer.CloseWrite()
			b.outer.CloseWrite()
			r := <-done
			if r.err != nil || r.st.AToB != 4 || r.st.BToA != 4 {
				t.Fatalf("Join: %+v, %v", r.st, r.err)
			}
			ended(t, "after the half-closes", a.outer, b.outer)
			waitLoopsDone(t, goroutines, fds)
		})
	}
}

// TestLoopFallbacks: unasked, with one P, or with a wrapped conn, Join
// copies with goroutines and no loop starts.
func TestLoopFallbacks(t *testing.T) {
	t.Run("unasked", func(t *testing.T) {
		a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
		done := join(context.Background(), a.inner, b.inner, relay.Options{})
		echoOnce(t, a.outer, b.outer, "default")
		if running, _ := relay.LoopStats(); running != 0 {
			t.Fatalf("%d loops without Options.Loop", running)
		}
		a.outer.CloseWrite()
		b.outer.CloseWrite()
		if r := <-done; r.err != nil {
			t.Fatal(r.err)
		}
	})
	t.Run("one-P", func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
		done := join(context.Background(), a.inner, b.inner, relay.Options{Loop: true})
		echoOnce(t, a.outer, b.outer, "one P")
		if running, _ := relay.LoopStats(); running != 0 {
			t.Fatalf("%d loops with GOMAXPROCS=1", running)
		}
		a.outer.CloseWrite()
		b.outer.CloseWrite()
		if r := <-done; r.err != nil {
			t.Fatal(r.err)
		}
	})
	t.Run("wrapped", func(t *testing.T) {
		a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
		wrapped := struct{ *net.TCPConn }{a.inner.(*net.TCPConn)}
		done := join(context.Background(), wrapped, b.inner, relay.Options{Loop: true})
		echoOnce(t, a.outer, b.outer, "wrapped")
		if running, _ := relay.LoopStats(); running != 0 {
			t.Fatalf("%d loops for a wrapped conn", running)
		}
		a.outer.CloseWrite()
		b.outer.CloseWrite()
		if r := <-done; r.err != nil {
			t.Fatal(r.err)
		}
	})
}

// TestLoopSlowReader: 32 MiB one way into a peer that reads in small bites
// with pauses, so the loop must wait for the socket with bytes in its pipe,
// while 1 MiB flows the other way.
func TestLoopSlowReader(t *testing.T) {
	a, b := socketPair(t, "tcp"), socketPair(t, "unix")
	up, down := random(t, 32<<20), random(t, 1<<20)
	done := join(context.Background(), a.inner, b.inner, relay.Options{Loop: true})
	go func() {
		a.outer.Write(up)
		a.outer.CloseWrite()
	}()
	go func() {
		b.outer.Write(down)
		b.outer.CloseWrite()
	}()
	var gotDown []byte
	var downErr error
	var wg sync.WaitGroup
	wg.Go(func() { gotDown, downErr = io.ReadAll(a.outer) })
	got := readSlowly(t, b.outer, 4096, 2<<20)
	wg.Wait()
	if r := <-done; r.err != nil {
		t.Fatal(r.err)
	}
	if downErr != nil || !bytes.Equal(gotDown, down) {
		t.Fatalf("down: %d of %d bytes, %v", len(gotDown), len(down), downErr)
	}
	if sha256.Sum256(got) != sha256.Sum256(up) {
		t.Fatalf("up: %d of %d bytes, equal prefix %v", len(got), len(up), bytes.HasPrefix(up, got))
	}
}

// engines are the two ways into the loop: Join, which waits, and Start,
// which hands the session over and tells its end.
var engines = []struct {
	name string
	run  func(t *testing.T, ctx context.Context, a, b stream.Conn, opt relay.Options) <-chan joined
}{
	{"Join", func(_ *testing.T, ctx context.Context, a, b stream.Conn, opt relay.Options) <-chan joined {
		return join(ctx, a, b, opt)
	}},
	{"Start", start},
}

// TestLoopReset: a peer that resets ends the session with an error that
// says so, as net's do, and the other peer sees its connection end.
func TestLoopReset(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
			done := e.run(t, context.Background(), a.inner, b.inner, relay.Options{Loop: true})
			echoOnce(t, a.outer, b.outer, "before")
			b.outer.(*net.TCPConn).SetLinger(0)
			b.outer.Close()
			go func() { // keep writing until the relay gives up on a
				chunk := make([]byte, 64<<10)
				for {
					if _, err := a.outer.Write(chunk); err != nil {
						return
					}
				}
			}()
			r := <-done
			if r.err == nil || !strings.Contains(r.err.Error(), "reset") && !strings.Contains(r.err.Error(), "broken pipe") {
				t.Fatalf("%v, want a reset or broken pipe", r.err)
			}
			var op *net.OpError
			if !errors.As(r.err, &op) || op.Net != "tcp" || op.Source == nil || op.Addr == nil {
				t.Errorf("the error %v does not say where, as net's do", r.err)
			}
			a.outer.(*net.TCPConn).SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, a.outer); errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("a's connection stayed open after the session failed")
			}
		})
	}
}

// TestLoopCancel: ending the context ends a quiet session at once, with
// context.Canceled and what it moved, and both peers see their
// connections close.
func TestLoopCancel(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			goroutines, fds := runtime.NumGoroutine(), openFDs(t)
			a, b := socketPair(t, "tcp"), socketPair(t, "unix")
			ctx, cancel := context.WithCancel(context.Background())
			done := e.run(t, ctx, a.inner, b.inner, relay.Options{Loop: true})
			echoOnce(t, a.outer, b.outer, "hello")
			cancel()
			if r := <-done; !errors.Is(r.err, context.Canceled) || r.st.AToB != 5 {
				t.Fatalf("%+v, %v; want context.Canceled after 5 bytes", r.st, r.err)
			}
			ended(t, "after cancel", a.outer, b.outer)
			waitLoopsDone(t, goroutines, fds)
		})
	}
}

// TestLoopLinger: with Linger, a session whose second direction never ends
// is closed that long after the first did, cleanly.
func TestLoopLinger(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
			done := e.run(t, context.Background(), a.inner, b.inner, relay.Options{Loop: true, Linger: 20 * time.Millisecond})
			a.outer.Write([]byte("last words"))
			a.outer.CloseWrite()
			r := <-done
			if r.err != nil || r.st.AToB != int64(len("last words")) {
				t.Fatalf("%+v, %v", r.st, r.err)
			}
			if got, err := io.ReadAll(b.outer); err != nil || string(got) != "last words" {
				t.Fatalf("b got %q, %v", got, err)
			}
		})
	}
}

// TestLoopManySessions: 200 sessions at once, 256 KiB each way in uneven
// writes, on as many loops as half the Ps allow; every byte arrives and
// nothing is left behind.
func TestLoopManySessions(t *testing.T) {
	for _, procs := range []int{2, 4} {
		t.Run(map[int]string{2: "2P", 4: "4P"}[procs], func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			goroutines, fds := runtime.NumGoroutine(), openFDs(t)
			const sessions, size = 200, 256 << 10
			var wg sync.WaitGroup
			errs := make(chan error, sessions)
			maxLoops := 0
			var mu sync.Mutex
			for i := range sessions {
				a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
				done := join(context.Background(), a.inner, b.inner, relay.Options{Loop: true})
				wg.Go(func() {
					defer a.outer.Close()
					defer b.outer.Close()
					up, down := pattern(i, size), pattern(i+sessions, size)
					var gotUp, gotDown []byte
					var inner sync.WaitGroup
					inner.Go(func() { gotDown, _ = exchangeUneven(a.outer, up) })
					inner.Go(func() { gotUp, _ = exchangeUneven(b.outer, down) })
					inner.Wait()
					mu.Lock()
					if running, _ := relay.LoopStats(); running > maxLoops {
						maxLoops = running
					}
					mu.Unlock()
					r := <-done
					switch {
					case r.err != nil:
						errs <- r.err
					case !bytes.Equal(gotUp, up) || !bytes.Equal(gotDown, down):
						errs <- errors.New("bytes differ")
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if maxLoops < 1 || maxLoops > procs/2 {
				t.Fatalf("%d loops ran with %d Ps", maxLoops, procs)
			}
			waitLoopsDone(t, goroutines, fds)
		})
	}
}

// pattern is n bytes that differ from session to session.
func pattern(seed, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seed*7 + i*13 + i>>8)
	}
	return p
}

// exchangeUneven writes send in writes of growing sizes, half-closes, and
// reads c to EOF.
func exchangeUneven(c stream.Conn, send []byte) ([]byte, error) {
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 1; len(send) > 0; n = (n*3 + 1) % (64 << 10) {
			k := min(n+1, len(send))
			if _, err := c.Write(send[:k]); err != nil {
				return
			}
			send = send[k:]
		}
		c.CloseWrite()
	})
	got, err := io.ReadAll(c)
	wg.Wait()
	return got, err
}

// TestLoopWithoutPipes: out of descriptors, a session that cannot have a
// pipe copies through a buffer instead, byte-exact both ways.
func TestLoopWithoutPipes(t *testing.T) {
	a, b := socketPair(t, "tcp"), socketPair(t, "unix")
	done := join(context.Background(), a.inner, b.inner, relay.Options{Loop: true})
	for i := 0; ; i++ { // the session is on its loop once both originals are closed
		if _, sessions := relay.LoopStats(); sessions == 1 && i > 10 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	tight := lim
	tight.Cur = uint64(lowestFreeFD()) // a new descriptor takes the lowest free number
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &tight); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if r, w, err := os.Pipe(); err == nil {
		r.Close()
		w.Close()
		t.Fatal("a pipe could still be had; the test would not test the buffer")
	}
	up, down := random(t, 4<<20), random(t, 4<<20)
	var gotUp, gotDown []byte
	var wg sync.WaitGroup
	wg.Go(func() { gotDown, _ = exchangeUneven(a.outer, up) })
	wg.Go(func() { gotUp, _ = exchangeUneven(b.outer, down) })
	wg.Wait()
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	if r := <-done; r.err != nil {
		t.Fatal(r.err)
	}
	if !bytes.Equal(gotUp, up) || !bytes.Equal(gotDown, down) {
		t.Fatalf("up %d of %d bytes, down %d of %d", len(gotUp), len(up), len(gotDown), len(down))
	}
}

// lowestFreeFD is the number the next new descriptor would get.
func lowestFreeFD() int {
	fd := 0
	for ; ; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == unix.EBADF {
			return fd
		}
	}
}

// benchEngines runs fn against the loop engine and against the goroutine
// path.
func benchEngines(b *testing.B, fn func(b *testing.B, a, far stream.Conn)) {
	for _, engine := range []string{"loop", "goroutines"} {
		b.Run(engine, func(b *testing.B) {
			a, c := benchPair(b), benchPair(b)
			done := make(chan struct{})
			go func() {
				relay.Join(context.Background(), a[0], c[0], relay.Options{Loop: engine == "loop"})
				close(done)
			}()
			fn(b, a[1], c[1])
			a[1].Close()
			c[1].Close()
			<-done
		})
	}
}

// benchPair is two connected TCP sockets on loopback.
func benchPair(b *testing.B) [2]stream.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	return [2]stream.Conn{s.(*net.TCPConn), c.(*net.TCPConn)}
}

// BenchmarkRoundTrip: one 64-byte message through Join to an echo and
// back per op.
func BenchmarkRoundTrip(b *testing.B) {
	benchEngines(b, func(b *testing.B, near, far stream.Conn) {
		go io.Copy(far, far) //nolint:errcheck // the echo ends with the session
		msg := make([]byte, 64)
		for b.Loop() {
			if _, err := near.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(near, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkThroughput: 1 MiB writes through Join to a reader that drops them.
func BenchmarkThroughput(b *testing.B) {
	benchEngines(b, func(b *testing.B, near, far stream.Conn) {
		go io.Copy(io.Discard, far) //nolint:errcheck // ends with the session
		chunk := make([]byte, 1<<20)
		b.SetBytes(int64(len(chunk)))
		for b.Loop() {
			if _, err := near.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// start runs relay.Start, which must take the session, and tells its
// outcome as join does.
func start(t *testing.T, ctx context.Context, a, b stream.Conn, opt relay.Options) <-chan joined {
	t.Helper()
	ch := make(chan joined, 1)
	if !relay.Start(ctx, a, b, opt, func(st relay.Stats, err error) { ch <- joined{st, err} }) {
		t.Fatal("Start did not take two plain sockets")
	}
	return ch
}

// TestStartHoldsNoGoroutine: sessions that Start hands to the loop live
// on with no goroutine of their own, move their bytes, half-close and
// tell their counts once both ways are done; nothing is left after.
func TestStartHoldsNoGoroutine(t *testing.T) {
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	const n = 50
	type session struct {
		a, b ends
		done <-chan joined
	}
	var all []session
	for i := range n {
		network := "tcp"
		if i%2 == 1 {
			network = "unix"
		}
		a, b := socketPair(t, "tcp"), socketPair(t, network)
		all = append(all, session{a, b, start(t, context.Background(), a.inner, b.inner, relay.Options{Loop: true})})
	}
	for _, s := range all {
		echoOnce(t, s.a.outer, s.b.outer, "ping")
		echoOnce(t, s.b.outer, s.a.outer, "pong!")
	}
	running, sessions := relay.LoopStats()
	if sessions != n || runtime.NumGoroutine() > goroutines+running {
		t.Fatalf("%d idle sessions on %d loops: %d goroutines, %d before; want one per loop, none per session",
			sessions, running, runtime.NumGoroutine(), goroutines)
	}
	for _, s := range all {
		s.a.outer.CloseWrite()
		s.b.outer.CloseWrite()
		r := <-s.done
		if r.err != nil || r.st.AToB != 4 || r.st.BToA != 5 {
			t.Fatalf("done: %+v, %v", r.st, r.err)
		}
		ended(t, "after the half-closes", s.a.outer, s.b.outer)
	}
	waitLoopsDone(t, goroutines, fds)
}

// TestStartDeclines: what the loop cannot carry whole is left to Join,
// untouched: Start says false and the conns still work.
func TestStartDeclines(t *testing.T) {
	for name, opt := range map[string]relay.Options{
		"no loop":  {},
		"progress": {Loop: true, Progress: func(bool, relay.Step, int64) {}},
		"tap":      {Loop: true, Tap: func(bool, []byte) {}},
		"idle":     {Loop: true, Idle: time.Second},
		"one way":  {Loop: true, Direction: relay.AToB},
		"eof rule": {Loop: true, EOF: []relay.EOFRule{{After: relay.AToB}}},
	} {
		t.Run(name, func(t *testing.T) {
			a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
			if relay.Start(context.Background(), a.inner, b.inner, opt, func(relay.Stats, error) { t.Error("done called") }) {
				t.Fatal("Start took the session")
			}
			echoOnce(t, a.inner, a.outer, "still mine")
		})
	}
	p := pipePair(t)
	s := socketPair(t, "tcp")
	if relay.Start(context.Background(), p.inner, s.inner, relay.Options{Loop: true}, func(relay.Stats, error) {}) {
		t.Fatal("Start took a pipe")
	}
}
