package sockit_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/internal/testenv"
)

// TestForwardFork: with fork, Forward serves every client with a
// connection of its own until ctx ends, each session's bytes exact and
// told once as closed.
func TestForwardFork(t *testing.T) {
	upstream := testenv.Upstream(t, bytes.ToUpper)
	before := runtime.NumGoroutine() // the upstream's own counted in
	fds := openFDs(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &events.Recorder{}
	listening := make(chan string, 1)
	obs := events.Fanout{rec, events.Func(func(e events.Event) {
		if e.Kind == events.Listening {
			listening <- e.Local
		}
	})}
	done := make(chan error, 1)
	go func() {
		done <- sockit.Forward(ctx, "TCP-LISTEN:0,bind=127.0.0.1,fork", "TCP:"+upstream, sockit.ForwardOptions{Events: obs, Loop: true})
	}()
	var addr string
	select {
	case addr = <-listening:
	case err := <-done:
		t.Fatalf("Forward: %v", err)
	}
	const clients = 20
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Go(func() {
			c, err := sockit.Dial(ctx, "TCP:"+addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			msg := strings.Repeat("abc", 1000*(i+1))
			go func() { c.Write([]byte(msg)); c.CloseWrite() }()
			got, _ := io.ReadAll(c)
			if string(got) != strings.ToUpper(msg) {
				t.Errorf("client %d got %d bytes, sent %d", i, len(got), len(msg))
			}
		})
	}
	wg.Wait()
	// Each session is told closed once its copy is done; wait for them.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if countKind(rec, events.Closed) == clients {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Forward after cancel: %v", err)
	}
	if n := countKind(rec, events.Closed); n != clients {
		t.Errorf("%d closed events, want %d", n, clients)
	}
	if n := countKind(rec, events.Accepted); n != clients {
		t.Errorf("%d accepted events, want %d", n, clients)
	}
	// Nothing Forward started outlives it: goroutines and descriptors
	// go back to where they were (the loop engine's own goroutine stops
	// within a second of its last session).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if runtime.NumGoroutine() <= before+1 && openFDs(t) <= fds {
			return
		}
	}
	t.Errorf("after Forward: %d goroutines (were %d), %d descriptors (were %d)", runtime.NumGoroutine(), before, openFDs(t), fds)
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

func countKind(rec *events.Recorder, k events.Kind) int {
	n := 0
	for _, e := range rec.Events() {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func TestForwardRefusesBadAddresses(t *testing.T) {
	for _, tt := range [][2]string{{"TCP-LISTEN:notaport", "TCP:127.0.0.1:1"}, {"TCP-LISTEN:0,bind=127.0.0.1", "NOSUCH:x"}} {
		err := sockit.Forward(context.Background(), tt[0], tt[1], sockit.ForwardOptions{})
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Forward(%q, %q) = %v, want a one-line error", tt[0], tt[1], err)
		}
	}
}
