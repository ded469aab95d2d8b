package serve_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/serve"
	"github.com/sockit/sockit/stream"
)

// TestNothingWatches: a nil Watch, and the nil Session it gives, take
// every call and do nothing.
func TestNothingWatches(t *testing.T) {
	var w *serve.Watch
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &stream.Pair{R: a, W: a}
	f := w.Session(c, true, "")
	if f != nil {
		t.Fatal("a nil Watch made a Session")
	}
	w.Emit(events.Event{Kind: events.Error})
	w.Listening(nil)
	w.Refused(nil, nil, "x")
	w.DialFailed("", "tcp", "127.0.0.1:1", errors.New("refused"))
	if uid := w.Connecting("tcp", "x"); uid != "" {
		t.Errorf("Connecting = %q", uid)
	}
	f.Accepted(c)
	f.Connected(c)
	f.Leg(c)
	f.Capturing(c, c, serve.Side{}, serve.Side{}, true)
	if f.Tap(nil) != nil || f.Progress(true) != nil {
		t.Error("a nil Session asks the relay to call it")
	}
	if got, done := f.Counted(c); got != stream.Conn(c) {
		t.Error("a nil Session wrapped the conn")
	} else {
		done(nil)
	}
	f.Closed(relay.Stats{}, true, nil)
	f.HeldByChild()
	if w.TLSObserver(nil) != nil {
		t.Error("TLSObserver with nothing to watch")
	}
}

// TestRelayListenError: a listening address that cannot listen comes
// back as a *ListenError naming it.
func TestRelayListenError(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	rl := &serve.Relay{A: address.MustParse("TCP-LISTEN:" + port + ",bind=127.0.0.1"), B: address.MustParse("TCP:127.0.0.1:1")}
	err = rl.Run(context.Background())
	var le *serve.ListenError
	if !errors.As(err, &le) || le.Spec.Kind != address.TCPListen {
		t.Errorf("Run = %v, want a *ListenError", err)
	}
}

// TestServerLimit: with MaxConns 1, a second client while the first is
// served is refused, told to Refused and as an event, and the first is
// served to its end.
func TestServerLimit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := endpoint.Listen(ctx, address.MustParse("TCP-LISTEN:0,bind=127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &events.Recorder{}
	release := make(chan struct{})
	var mu sync.Mutex
	var refused []string
	sv := &serve.Server{
		MaxConns: 1,
		Handle: func(ctx context.Context, c stream.Conn, f *serve.Session) error {
			<-release
			c.Write([]byte("served\n"))
			return c.Close()
		},
		Refused: func(c stream.Conn, why string) { mu.Lock(); refused = append(refused, why); mu.Unlock() },
		Watch:   &serve.Watch{Events: rec},
	}
	done := make(chan error, 1)
	go func() { done <- sv.Serve(ctx, ln) }()
	first, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// The first is in its slot once Accepted is recorded.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && count(rec, events.Accepted) == 0; time.Sleep(5 * time.Millisecond) {
	}
	second, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(second) // closed at once
	second.Close()
	close(release)
	got, _ := io.ReadAll(first)
	cancel()
	ln.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if len(b) != 0 || string(got) != "served\n" {
		t.Errorf("second got %q, first %q", b, got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refused) != 1 || !strings.Contains(refused[0], "connection limit reached (1)") || count(rec, events.Refused) != 1 {
		t.Errorf("refused %q, %d refused events", refused, count(rec, events.Refused))
	}
}

func count(rec *events.Recorder, k events.Kind) int {
	n := 0
	for _, e := range rec.Events() {
		if e.Kind == k {
			n++
		}
	}
	return n
}
