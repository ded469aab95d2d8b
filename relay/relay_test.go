package relay_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// ends is one side of a test session: the conn handed to Join (inner) and
// the conn the test drives (outer).
type ends struct {
	inner stream.Conn
	outer stream.Conn
}

// socketPair connects two stream sockets of the given network on loopback.
func socketPair(t *testing.T, network string) ends {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-ch
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return ends{inner: s.(stream.Conn), outer: c.(stream.Conn)}
}

// pipePair builds two os.Pipes: the inner end reads one and writes the
// other, as stdin and stdout do.
func pipePair(t *testing.T) ends {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inR.Close(); inW.Close(); outR.Close(); outW.Close() })
	return ends{
		inner: &stream.Pair{R: inR, W: outW},
		outer: &stream.Pair{R: outR, W: inW},
	}
}

var kinds = map[string]func(*testing.T) ends{
	"tcp":  func(t *testing.T) ends { return socketPair(t, "tcp") },
	"unix": func(t *testing.T) ends { return socketPair(t, "unix") },
	"pipe": pipePair,
}

// exchange writes send into c, half-closes it, and reads c to EOF.
func exchange(c stream.Conn, send []byte) (got []byte, err error) {
	var wg sync.WaitGroup
	var werr error
	wg.Go(func() {
		if _, werr = c.Write(send); werr == nil {
			werr = c.CloseWrite()
		}
	})
	got, err = io.ReadAll(c)
	wg.Wait()
	if err == nil {
		err = werr
	}
	return got, err
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJoinBothWays moves 8 MiB each way at once between every pair of
// kinds, on the fast paths (splice, sendfile, plain copy, the loop), and
// checks bytes, counts and half-close.
func TestJoinBothWays(t *testing.T) {
	const size = 8 << 20
	for an, mk := range kinds {
		for bn, mk2 := range kinds {
			for _, loop := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s-%s-loop=%v", an, bn, loop), func(t *testing.T) {
					a, b := mk(t), mk2(t)
					fromA, fromB := random(t, size), random(t, size)
					type res struct {
						st  relay.Stats
						err error
					}
					joined := make(chan res, 1)
					go func() {
						st, err := relay.Join(context.Background(), a.inner, b.inner, relay.Options{Loop: loop})
						joined <- res{st, err}
					}()
					var gotA, gotB []byte
					var errA, errB error
					var wg sync.WaitGroup
					wg.Go(func() { gotA, errA = exchange(a.outer, fromA) })
					wg.Go(func() { gotB, errB = exchange(b.outer, fromB) })
					wg.Wait()
					r := <-joined
					if errA != nil || errB != nil || r.err != nil {
						t.Fatalf("errors: a %v, b %v, join %v", errA, errB, r.err)
					}
					if sha256.Sum256(gotB) != sha256.Sum256(fromA) || sha256.Sum256(gotA) != sha256.Sum256(fromB) {
						t.Fatalf("bytes differ: b got %d of %d, a got %d of %d", len(gotB), size, len(gotA), size)
					}
					if r.st.AToB != size || r.st.BToA != size {
						t.Fatalf("stats %+v, want %d each way", r.st, size)
					}
				})
			}
		}
	}
}

// TestSpliceSlowReader fills the socket while its reader sleeps, so the
// pipe→socket splice must wait for the socket rather than the pipe.
func TestSpliceSlowReader(t *testing.T) {
	a, b := pipePair(t), socketPair(t, "tcp")
	data := random(t, 16<<20)
	done := make(chan error, 1)
	go func() {
		_, err := relay.Join(context.Background(), a.inner, b.inner, relay.Options{Direction: relay.AToB})
		done <- err
	}()
	go func() {
		a.outer.Write(data)
		a.outer.CloseWrite()
	}()
	got := readSlowly(t, b.outer, 1000, 1<<20)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("got %d bytes, want %d, equal prefix %v", len(got), len(data), bytes.HasPrefix(data, got))
	}
}

// readSlowly reads c to EOF in reads of at most bite bytes, pausing a
// millisecond after each run of about every bytes, so the sender's socket
// fills up and the relay must wait for it.
func readSlowly(t *testing.T, c io.Reader, bite, every int) []byte {
	t.Helper()
	var got bytes.Buffer
	buf := make([]byte, bite)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		if err == io.EOF {
			return got.Bytes()
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.Len()%every < bite {
			time.Sleep(time.Millisecond)
		}
	}
}

// TestHalfClose: EOF from a reaches b's peer as EOF while b's peer can
// still answer; with NoShutdown b's peer sees no EOF until the session ends.
func TestHalfClose(t *testing.T) {
	for _, tt := range []struct{ noShutdown, loop bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		noShutdown := tt.noShutdown
		t.Run(fmt.Sprintf("no-shutdown=%v-loop=%v", noShutdown, tt.loop), func(t *testing.T) {
			a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
			done := make(chan error, 1)
			go func() {
				_, err := relay.Join(context.Background(), a.inner, b.inner, relay.Options{NoShutdown: noShutdown, Loop: tt.loop})
				done <- err
			}()
			a.outer.Write([]byte("question"))
			a.outer.CloseWrite()
			buf := make([]byte, 64)
			n, _ := io.ReadAtLeast(b.outer, buf, len("question"))
			if string(buf[:n]) != "question" {
				t.Fatalf("b got %q", buf[:n])
			}
			b.outer.Write([]byte("late answer"))
			got := make([]byte, len("late answer"))
			if _, err := io.ReadFull(a.outer, got); err != nil || string(got) != "late answer" {
				t.Fatalf("a got %q, %v", got, err)
			}
			// The session is still open (b has not half-closed): b's peer
			// must see EOF now, or, with NoShutdown, nothing at all.
			b.outer.(*net.TCPConn).SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			_, err := b.outer.Read(buf)
			if !noShutdown && err != io.EOF {
				t.Fatalf("b's read after a's half-close: %v, want EOF", err)
			}
			if noShutdown && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("b's read with NoShutdown: %v, want nothing before the deadline", err)
			}
			b.outer.CloseWrite()
			if rest, _ := io.ReadAll(a.outer); len(rest) != 0 {
				t.Fatalf("a got extra %q", rest)
			}
			if err := <-done; err != nil {
				t.Fatalf("Join: %v", err)
			}
		})
	}
}

// TestOptions covers the slow-path transforms.
func TestOptions(t *testing.T) {
	tests := []struct {
		name       string
		opt        relay.Options
		send, recv string // a's peer sends; b's peer must receive
		back       string // b's peer sends; a's peer must receive
	}{
		{"crlf", relay.Options{CRLF: true}, "a\nb\n", "a\r\nb\r\n", "x\ny\n"},
		{"crlf-kept", relay.Options{CRLF: true}, "a\r\n\nb\r\r\n\n", "a\r\n\r\nb\r\r\n\r\n", "x\r\n"},
		{"delay", relay.Options{Delay: time.Millisecond}, "slow", "slow", "back"},
		{"send-only", relay.Options{Direction: relay.AToB}, "up", "up", ""},
		{"recv-only", relay.Options{Direction: relay.BToA}, "", "", "down"},
		{"idle-unused", relay.Options{Idle: time.Hour}, "one", "one", "two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := socketPair(t, "tcp"), socketPair(t, "unix")
			var mu sync.Mutex
			tapped := map[bool]*bytes.Buffer{true: {}, false: {}}
			opt := tt.opt
			opt.Tap = func(toB bool, p []byte) { mu.Lock(); tapped[toB].Write(p); mu.Unlock() }
			done := make(chan error, 1)
			go func() {
				_, err := relay.Join(context.Background(), a.inner, b.inner, opt)
				done <- err
			}()
			var gotA, gotB []byte
			var wg sync.WaitGroup
			wg.Go(func() { gotA, _ = exchange(a.outer, []byte(tt.send)) })
			wg.Go(func() { gotB, _ = exchange(b.outer, []byte(tt.back)) })
			wg.Wait()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			wantA := tt.back
			if opt.Direction == relay.AToB {
				wantA = ""
			}
			if string(gotB) != tt.recv || string(gotA) != wantA {
				t.Fatalf("b got %q want %q; a got %q want %q", gotB, tt.recv, gotA, wantA)
			}
			if tapped[true].String() != string(gotB) || tapped[false].String() != string(gotA) {
				t.Fatalf("tap saw %q and %q", tapped[true], tapped[false])
			}
		})
	}
}

// TestEOFRules ends a session when the rule's direction is done, while
// the other is still open, after everything the done direction read
// was delivered.
func TestEOFRules(t *testing.T) {
	for _, tt := range []struct {
		name  string
		rule  relay.EOFRule
		aEOF  bool // a's peer half-closes (else b's)
		grace bool // the other direction still moves during the grace
	}{
		{"a-done", relay.EOFRule{After: relay.AToB}, true, false},
		{"b-done", relay.EOFRule{After: relay.BToA}, false, false},
		{"either", relay.EOFRule{After: relay.Both}, false, false},
		{"a-drain", relay.EOFRule{After: relay.AToB, Grace: 200 * time.Millisecond}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
			done := make(chan error, 1)
			go func() {
				_, err := relay.Join(context.Background(), a.inner, b.inner, relay.Options{EOF: []relay.EOFRule{tt.rule}})
				done <- err
			}()
			first, firstPeer, other, otherPeer := a.outer, b.outer, b.outer, a.outer
			if !tt.aEOF {
				first, firstPeer, other, otherPeer = b.outer, a.outer, a.outer, b.outer
			}
			first.Write([]byte("last words"))
			first.CloseWrite()
			got := make([]byte, len("last words"))
			if _, err := io.ReadFull(firstPeer, got); err != nil || string(got) != "last words" {
				t.Fatalf("got %q, %v", got, err)
			}
			if tt.grace {
				other.Write([]byte("during grace"))
				got := make([]byte, len("during grace"))
				if _, err := io.ReadFull(otherPeer, got); err != nil || string(got) != "during grace" {
					t.Fatalf("during the grace got %q, %v", got, err)
				}
			}
			// The other side never half-closes: the rule alone ends Join.
			if err := <-done; err != nil {
				t.Fatalf("Join: %v", err)
			}
			if rest, err := io.ReadAll(otherPeer); err != nil || len(rest) != 0 {
				t.Fatalf("after the end: %q, %v", rest, err)
			}
		})
	}
}

// TestEOFRuleCounts: a request, then an answer and a close, under a rule
// that ends at the answer's EOF: both directions are counted, whichever
// reports first (the request's copy often reports after the answer).
func TestEOFRuleCounts(t *testing.T) {
	for i := range 50 {
		a, b := socketPair(t, "tcp"), socketPair(t, "tcp")
		go func() {
			io.ReadAll(b.outer)
			b.outer.Write([]byte("answer"))
			b.outer.Close()
		}()
		a.outer.Write([]byte("request"))
		a.outer.CloseWrite()
		st, err := relay.Join(context.Background(), a.inner, b.inner, relay.Options{EOF: []relay.EOFRule{{After: relay.BToA}}})
		if err != nil || st.AToB != int64(len("request")) || st.BToA != int64(len("answer")) {
			t.Fatalf("run %d: %+v, %v", i, st, err)
		}
	}
}

// TestIdle ends a silent session with ErrIdle.
func TestIdle(t *testing.T) {
	a, b := socketPair(t, "tcp"), pipePair(t)
	_, err := relay.Join(context.Background(), a.inner, b.inner, relay.Options{Idle: 20 * time.Millisecond})
	if !errors.Is(err, relay.ErrIdle) {
		t.Fatalf("Join: %v, want ErrIdle", err)
	}
}

// TestCancelWakesSplice: a quiet pipe being spliced into a socket must not
// hold the session after the context ends.
func TestCancelWakesSplice(t *testing.T) {
	before := runtime.NumGoroutine()
	a, b := pipePair(t), socketPair(t, "tcp")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := relay.Join(ctx, a.inner, b.inner, relay.Options{})
		done <- err
	}()
	a.outer.Write([]byte("hello"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(b.outer, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v", buf, err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Join: %v, want context.Canceled", err)
	}
	waitGoroutines(t, before)
}

// TestFailureEndsSession: when one direction fails, Join returns without
// waiting for the other, even when that one cannot be woken by a close.
func TestFailureEndsSession(t *testing.T) {
	stuck := &blockingReader{release: make(chan struct{})}
	defer close(stuck.release)
	a := &stream.Pair{R: stuck, W: io.Discard}
	b := &failConn{err: errors.New("connection reset by peer")}
	_, err := relay.Join(context.Background(), a, b, relay.Options{})
	if err == nil || !strings.Contains(err.Error(), "reset") {
		t.Fatalf("Join: %v, want the reset", err)
	}
}

type blockingReader struct{ release chan struct{} }

func (r *blockingReader) Read([]byte) (int, error) { <-r.release; return 0, io.EOF }

type failConn struct{ err error }

func (c *failConn) Read([]byte) (int, error)    { return 0, c.err }
func (c *failConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *failConn) CloseWrite() error           { return nil }
func (c *failConn) Close() error                { return nil }
func (c *failConn) LocalAddr() net.Addr         { return nil }
func (c *failConn) RemoteAddr() net.Addr        { return nil }

// waitGoroutines waits until the goroutine count is back to n.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if runtime.NumGoroutine() <= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Fatalf("goroutines: %d, want %d\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
}

// TestFailedSessionCounts: when one side resets, the session fails, and
// the bytes the other direction had already moved still count, on the
// goroutine path (an Echo) and on the loop engine (two sockets).
func TestFailedSessionCounts(t *testing.T) {
	for _, c := range []struct {
		name string
		loop bool
	}{{"echo", false}, {"loop", true}} {
		t.Run(c.name, func(t *testing.T) {
			a := socketPair(t, "tcp")
			var b stream.Conn = stream.NewEcho()
			var far ends
			if c.loop {
				far = socketPair(t, "tcp")
				b = far.inner
				go func() { io.Copy(far.outer, far.outer) }() // the far end echoes
			}
			done := make(chan relay.Stats, 1)
			go func() {
				st, _ := relay.Join(context.Background(), a.inner, b, relay.Options{Loop: c.loop})
				done <- st
			}()
			a.outer.Write([]byte("hello"))
			if _, err := io.ReadFull(a.outer, make([]byte, 5)); err != nil {
				t.Fatal(err)
			}
			a.outer.(*net.TCPConn).SetLinger(0)
			a.outer.Close()
			st := <-done
			if st.AToB != 5 || st.BToA != 5 {
				t.Errorf("after the reset: %d bytes a→b and %d b→a; 5 went each way", st.AToB, st.BToA)
			}
		})
	}
}

// TestEchoJoin: a conn joined with an Echo gets back exactly what it
// sent, in order, then EOF once it has half-closed; the session is one
// goroutine (PathEcho) and ends at a cancel with context.Canceled.
func TestEchoJoin(t *testing.T) {
	a := socketPair(t, "tcp")
	send := random(t, 1<<20)
	done := make(chan joined, 1)
	go func() {
		st, err := relay.Join(context.Background(), a.inner, stream.NewEcho(), relay.Options{})
		done <- joined{st, err}
	}()
	got, err := exchange(a.outer, send)
	if err != nil || !bytes.Equal(got, send) {
		t.Fatalf("echoed %d bytes (%v), want the %d sent", len(got), err, len(send))
	}
	r := <-done
	if r.err != nil || r.st.AToB != int64(len(send)) || r.st.BToA != int64(len(send)) || r.st.Path != relay.PathEcho {
		t.Fatalf("Join: %+v, %v", r.st, r.err)
	}

	b := socketPair(t, "unix")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		st, err := relay.Join(ctx, stream.NewEcho(), b.inner, relay.Options{})
		done <- joined{st, err}
	}()
	echoOnce(t, b.outer, b.outer, "quiet now")
	cancel()
	if r := <-done; !errors.Is(r.err, context.Canceled) || r.st.AToB != 9 {
		t.Fatalf("after cancel: %+v, %v", r.st, r.err)
	}
}

// TestEchoJoinReset: a reset while the echo waits for bytes comes back
// as the read error it is (socat calls it a warning), not as an EOF.
func TestEchoJoinReset(t *testing.T) {
	a := socketPair(t, "tcp")
	done := make(chan error, 1)
	go func() {
		_, err := relay.Join(context.Background(), a.inner, stream.NewEcho(), relay.Options{})
		done <- err
	}()
	echoOnce(t, a.outer, a.outer, "x")
	a.outer.(*net.TCPConn).SetLinger(0)
	a.outer.Close()
	err := <-done
	var op *net.OpError
	if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &op) || op.Op != "read" {
		t.Fatalf("Join: %v, want a read's connection reset", err)
	}
}

// joined is how a session ended: what Join or Start's done returned.
type joined struct {
	st  relay.Stats
	err error
}

// echoOnce sends p from one peer and reads it at the other.
func echoOnce(t *testing.T, from, to stream.Conn, p string) {
	t.Helper()
	if _, err := from.Write([]byte(p)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(p))
	if _, err := io.ReadFull(to, got); err != nil || string(got) != p {
		t.Fatalf("got %q, %v; want %q", got, err, p)
	}
}
