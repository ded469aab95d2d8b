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
	if f.Progress(true) != nil {
		t.Error("a nil Session asks the relay to call it")
	}
	if w.Taps() {
		t.Error("a nil Watch has taps")
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

// tapRecorder is a Tap that keeps the chunks and counts the events.
type tapRecorder struct {
	mu     sync.Mutex
	chunks []events.Chunk
	events int
}

func (r *tapRecorder) Observe(events.Event) { r.mu.Lock(); r.events++; r.mu.Unlock() }
func (r *tapRecorder) Data(c events.Chunk) {
	r.mu.Lock()
	c.Data = append([]byte(nil), c.Data...)
	r.chunks = append(r.chunks, c)
	r.mu.Unlock()
}

// tcpPair is both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (near, far *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	n, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	near, far = n.(*net.TCPConn), d.(*net.TCPConn)
	t.Cleanup(func() { near.Close(); far.Close() })
	return near, far
}

// TestTapSeesEveryByte: a Tap among a Watch's observers sees each
// direction's bytes, in order, told which way they went and under the
// session's uid; an observer that is not a Tap leaves Taps false.
func TestTapSeesEveryByte(t *testing.T) {
	if (&serve.Watch{Events: &events.Recorder{}}).Taps() {
		t.Fatal("a Recorder counts as a tap")
	}
	tr := &tapRecorder{}
	rec := &events.Recorder{}
	w := &serve.Watch{Events: events.Fanout{rec, tr}}
	if !w.Taps() {
		t.Fatal("Taps is false with a Tap in the Fanout")
	}
	a, client := tcpPair(t)
	b, upstream := tcpPair(t)
	f := w.Session(a, true, "")
	done := make(chan error, 1)
	go func() {
		_, err := f.Join(context.Background(), a, b, relay.Options{}, serve.Side{Name: "first"}, serve.Side{Name: "second"}, false)
		done <- err
	}()
	const up, down = "hello, upstream", "and hello back"
	client.Write([]byte(up))
	client.CloseWrite()
	got, _ := io.ReadAll(upstream)
	upstream.Write([]byte(down))
	upstream.CloseWrite()
	back, _ := io.ReadAll(client)
	if err := <-done; err != nil {
		t.Fatalf("Join: %v", err)
	}
	if string(got) != up || string(back) != down {
		t.Fatalf("upstream got %q, client %q", got, back)
	}
	var ab, ba strings.Builder
	uid := ""
	for _, c := range tr.chunks {
		uid = c.UID
		if c.AToB {
			ab.Write(c.Data)
		} else {
			ba.Write(c.Data)
		}
		// the session's socket is a, the accepted client: b's bytes went to it
		if c.ToNet == c.AToB {
			t.Errorf("chunk %q: AToB %v, ToNet %v", c.Data, c.AToB, c.ToNet)
		}
	}
	if ab.String() != up || ba.String() != down {
		t.Errorf("the tap saw %q a→b and %q b→a", ab.String(), ba.String())
	}
	evs := rec.Events()
	if len(evs) == 0 || uid != evs[len(evs)-1].UID || evs[len(evs)-1].Kind != events.Closed {
		t.Errorf("chunks under uid %q; events %v", uid, evs)
	}
	if tr.events != len(evs) {
		t.Errorf("the tap observed %d events, the recorder %d", tr.events, len(evs))
	}
}

// TestCountedFeedsTaps: a room's client counted for a Session that taps
// watch shows its bytes to the taps: what the client sent as received
// from the network, what it was sent as sent.
func TestCountedFeedsTaps(t *testing.T) {
	a, client := tcpPair(t)
	tr := &tapRecorder{}
	f := (&serve.Watch{Events: tr}).Session(a, true, "")
	c, done := f.Counted(a)
	client.Write([]byte("from the client"))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	c.Write([]byte("to the client"))
	done(nil)
	if string(buf[:n]) != "from the client" || len(tr.chunks) != 2 {
		t.Fatalf("read %q; the tap saw %d chunks", buf[:n], len(tr.chunks))
	}
	in, out := tr.chunks[0], tr.chunks[1]
	if string(in.Data) != "from the client" || in.ToNet || string(out.Data) != "to the client" || !out.ToNet {
		t.Errorf("the tap saw %+v and %+v", in, out)
	}
}
