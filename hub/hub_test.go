package hub_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sockit/sockit/hub"
	"github.com/sockit/sockit/internal/testenv"
	"github.com/sockit/sockit/tlsconf"
)

// room is a hub behind a loopback listener.
type room struct {
	*hub.Hub
	addr string
	logs chan string
}

// newRoom starts a hub; wrap, if set, turns each accepted conn into
// another (TLS).
func newRoom(t testing.TB, opt hub.Options, wrap func(net.Conn) net.Conn) *room {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &room{addr: ln.Addr().String(), logs: make(chan string, 100)}
	opt.Logf = func(format string, a ...any) {
		select {
		case r.logs <- fmt.Sprintf(format, a...):
		default:
		}
	}
	r.Hub = hub.New(opt)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if wrap != nil {
				c = wrap(c)
			}
			r.Join(c.(interface {
				net.Conn
				CloseWrite() error
			}), nil)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		r.Close()
	})
	return r
}

// dial connects to the room from src (127.0.0.x) and waits until the hub
// counts want clients.
func (r *room) dial(t testing.TB, src string, want int) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r.waitLen(t, want)
	return c
}

func (r *room) waitLen(t testing.TB, want int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); r.Len() != want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("room has %d clients, want %d", r.Len(), want)
		}
	}
}

// expect reads exactly want from c.
func expect(t *testing.T, c net.Conn, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(want))
	n, err := io.ReadFull(c, got)
	if err != nil || string(got) != want {
		t.Fatalf("%s read %q (%v), want %q", c.LocalAddr(), got[:n], err, want)
	}
}

func TestChatJoinLeave(t *testing.T) {
	r := newRoom(t, hub.Options{Chat: true, FirstID: 4}, nil)
	a := r.dial(t, "127.0.0.1", 1)
	expect(t, a, "<announce> 127.0.0.1 is connected as <user4>.\n<announce> already connected: nobody.\n")
	b := r.dial(t, "127.0.0.2", 2)
	join := "<announce> 127.0.0.2 is connected as <user5>.\n<announce> already connected: 127.0.0.1 as <user4>.\n"
	expect(t, a, join)
	expect(t, b, join)
	c := r.dial(t, "127.0.0.3", 3)
	join = "<announce> 127.0.0.3 is connected as <user6>.\n<announce> already connected: 127.0.0.1 as <user4>, 127.0.0.2 as <user5>.\n"
	for _, x := range []net.Conn{a, b, c} {
		expect(t, x, join)
	}

	a.Write([]byte("hi\tthere\x01\xc3\xa9\r\nsecond line\n"))
	said := "<user4> hi\tthere\\001\\303\\251\r\n<user4> second line\n"
	expect(t, b, said)
	expect(t, c, said)

	// A line in pieces goes out whole, once its newline comes.
	b.Write([]byte("in "))
	b.Write([]byte("pieces"))
	b.Write([]byte("\n"))
	expect(t, a, "<user5> in pieces\n")
	expect(t, c, "<user5> in pieces\n")

	b.Close()
	r.waitLen(t, 2)
	expect(t, a, "<announce> <user5> is disconnected.\n")
	expect(t, c, "<announce> <user5> is disconnected.\n")

	// The lowest free id is reused, as ncat reuses descriptors.
	d := r.dial(t, "127.0.0.4", 3)
	join = "<announce> 127.0.0.4 is connected as <user5>.\n<announce> already connected: 127.0.0.1 as <user4>, 127.0.0.3 as <user6>.\n"
	for _, x := range []net.Conn{a, c, d} {
		expect(t, x, join)
	}
	// Nobody hears themselves.
	a.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := a.Read(make([]byte, 1)); n != 0 || !isTimeout(err) {
		t.Errorf("the sender heard %d bytes (%v)", n, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestOrderPerSender has four clients talk at once, in uneven writes, while
// all of them read; each must hear the other three complete and in order.
// A broker relays bytes, so each sender's bytes carry its number in the
// top two bits and a counter in the rest; a chat relays lines.
func TestOrderPerSender(t *testing.T) {
	const senders = 4
	for _, chat := range []bool{false, true} {
		t.Run(map[bool]string{false: "broker", true: "chat"}[chat], func(t *testing.T) {
			r := newRoom(t, hub.Options{Chat: chat}, nil)
			conns := make([]net.Conn, senders)
			for i := range conns {
				conns[i] = r.dial(t, fmt.Sprintf("127.0.0.%d", i+1), i+1)
			}
			if chat {
				for i, c := range conns { // the join notices
					for range senders - i {
						readLine(t, c)
						readLine(t, c)
					}
				}
			}
			const size = 1 << 20
			streams := make([][]byte, senders)
			for i := range streams {
				if chat {
					var buf bytes.Buffer
					for n := 0; buf.Len() < size; n++ {
						fmt.Fprintf(&buf, "s%d %06d %s\n", i, n, strings.Repeat("x", n%50))
					}
					streams[i] = buf.Bytes()
					continue
				}
				streams[i] = make([]byte, size)
				for n := range streams[i] {
					streams[i][n] = byte(i<<6 | n&63)
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 2*senders)
			for i, c := range conns {
				wg.Go(func() {
					p := streams[i]
					for k := 1; len(p) > 0; k = k%97 + 1 { // writes of 13 to 1261 bytes
						n := min(len(p), k*13)
						if _, err := c.Write(p[:n]); err != nil {
							errs <- err
							return
						}
						p = p[n:]
					}
				})
				wg.Go(func() {
					c.SetReadDeadline(time.Now().Add(60 * time.Second))
					if chat {
						errs <- checkLines(c, i, senders, streams)
					} else {
						errs <- checkBytes(c, i, senders, size)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func readLine(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := c.Read(b); err != nil {
			t.Fatalf("read: %v after %q", err, line)
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			return string(line)
		}
	}
}

// checkBytes reads what client me hears until every other sender's size
// bytes have come, each in order.
func checkBytes(c net.Conn, me, senders, size int) error {
	next := make([]int, senders)
	buf := make([]byte, 64<<10)
	for got := 0; got < (senders-1)*size; {
		n, err := c.Read(buf)
		for _, b := range buf[:n] {
			from := int(b >> 6)
			if from == me || int(b&63) != next[from]&63 {
				return fmt.Errorf("client %d heard byte %#x from s%d at its byte %d", me, b, from, next[from])
			}
			next[from]++
		}
		got += n
		if err != nil {
			return fmt.Errorf("client %d: %v after %v bytes per sender", me, err, next)
		}
	}
	return nil
}

// checkLines reads what client me hears until every other sender's
// lines have come, each whole, prefixed and in order.
func checkLines(c net.Conn, me, senders int, streams [][]byte) error {
	want := make([][]string, senders)
	for i, s := range streams {
		want[i] = strings.SplitAfter(string(s), "\n")
		want[i] = want[i][:len(want[i])-1]
	}
	next := make([]int, senders)
	sc := bufio.NewScanner(c)
	total := 0
	for i := range senders {
		if i != me {
			total += len(want[i])
		}
	}
	for got := 0; got < total; got++ {
		if !sc.Scan() {
			return fmt.Errorf("client %d: %v after %v lines per sender", me, sc.Err(), next)
		}
		var id, from int
		fmt.Sscanf(sc.Text(), "<user%d> s%d", &id, &from)
		if from == me || from < 0 || from >= senders || next[from] >= len(want[from]) ||
			sc.Text() != fmt.Sprintf("<user%d> %s", id, strings.TrimSuffix(want[from][next[from]], "\n")) {
			return fmt.Errorf("client %d heard %q; want s%d's line %d", me, sc.Text(), from, next[from])
		}
		next[from]++
	}
	return nil
}

// TestSlowConsumerCutOff has one client stop reading while another sends
// far more than the backlog: the stalled one is cut off with a log line,
// and the ones that read get every byte.
func TestSlowConsumerCutOff(t *testing.T) {
	r := newRoom(t, hub.Options{Backlog: 1 << 20, Grace: 2 * time.Second}, nil)
	sender := r.dial(t, "127.0.0.1", 1)
	readers := []net.Conn{r.dial(t, "127.0.0.2", 2), r.dial(t, "127.0.0.3", 3)}
	stalled := r.dial(t, "127.0.0.4", 4)
	stalled.(*net.TCPConn).SetReadBuffer(4096)

	const total = 32 << 20
	want := make([]byte, total)
	for i := range want {
		want[i] = byte(i * 7 / 5)
	}
	var wg sync.WaitGroup
	wg.Go(func() { sender.Write(want) })
	for _, c := range readers {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			got := make([]byte, total)
			if n, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s got %d bytes (%v), or different ones", c.LocalAddr(), n, err)
			}
		})
	}
	wg.Wait()
	select {
	case line := <-r.logs:
		if !strings.Contains(line, stalled.LocalAddr().String()) || !strings.Contains(line, "backlog") {
			t.Errorf("log line %q does not say who and why", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no log line for the stalled client")
	}
	r.waitLen(t, 3)
	if st := r.Stats(); st.CutOff != 1 || st.Clients != 3 {
		t.Errorf("Stats() = %+v, want 1 cut off and 3 clients", st)
	}
	// The stalled client's connection is reset: the kernel drops what it held.
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, stalled)
	if err != nil && !isReset(err) {
		t.Errorf("stalled client: %v after %d bytes", err, n)
	}
	if n >= total {
		t.Errorf("stalled client got all %d bytes; it should have been cut off", n)
	}
}

// TestStats has a client stop reading while more than the kernel can
// hold is sent to it: the room counts it as lagging with bytes queued,
// and counts them back to zero as it reads.
func TestStats(t *testing.T) {
	r := newRoom(t, hub.Options{Backlog: 64 << 20, Grace: time.Millisecond}, nil)
	sender := r.dial(t, "127.0.0.1", 1)
	slow := r.dial(t, "127.0.0.2", 2)
	// More than the kernel buffers for a connection whose reader does not
	// read: at most tcp_wmem's maximum (4 MiB) and the receive buffer,
	// which grows only as the application reads.
	const total = 32 << 20
	if _, err := sender.Write(make([]byte, total)); err != nil {
		t.Fatal(err)
	}
	waitStats(t, r, "the slow reader lagging", func(st hub.Stats) bool { return st.Lagging == 1 && st.Queued > 0 })
	if st := r.Stats(); st.Clients != 2 || st.Queued > total || st.CutOff != 0 {
		t.Errorf("Stats() = %+v, want 2 clients, no more than %d queued, none cut off", st, total)
	}
	slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(slow, make([]byte, total)); err != nil {
		t.Fatal(err)
	}
	waitStats(t, r, "nothing queued", func(st hub.Stats) bool { return st.Lagging == 0 && st.Queued == 0 })
}

func waitStats(t *testing.T, r *room, what string, ok func(hub.Stats) bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(r.Stats()); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Stats() = %+v, want %s", r.Stats(), what)
		}
	}
}

func isReset(err error) bool { return strings.Contains(err.Error(), "reset") }

// TestManyClients joins 5,000 clients and has them leave, and checks that
// the hub gives back every goroutine and descriptor.
func TestManyClients(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	goroutines, fds := runtime.NumGoroutine(), testenv.OpenFDs(t, os.Getpid())
	t.Run("join and leave", func(t *testing.T) {
		r := newRoom(t, hub.Options{Chat: false}, nil)
		conns := make([]net.Conn, 0, n)
		for i := range n {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%200))}}
			c, err := d.Dial("tcp", r.addr)
			if err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			conns = append(conns, c)
		}
		r.waitLen(t, n)
		// Everyone hears one message, then leaves; half slam the door.
		conns[0].Write([]byte("bye\n"))
		for i, c := range conns[1:] {
			expect(t, c, "bye\n")
			if i%2 == 0 {
				c.(*net.TCPConn).SetLinger(0)
			}
			c.Close()
		}
		conns[0].Close()
		r.waitLen(t, 0)
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		g, f := runtime.NumGoroutine(), testenv.OpenFDs(t, os.Getpid())
		if g <= goroutines && f <= fds {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5,000 clients left: %d goroutines (was %d), %d descriptors (was %d)", g, goroutines, f, fds)
		}
	}
}

// TestTLS runs the hub's goroutine path: TLS conns have no socket of
// their own to poll.
func TestTLS(t *testing.T) {
	srv, _, _, err := tlsconf.Server{}.Config()
	if err != nil {
		t.Fatal(err)
	}
	r := newRoom(t, hub.Options{Chat: true, FirstID: 4}, func(c net.Conn) net.Conn { return tls.Server(c, srv) })
	dial := func(want int) net.Conn {
		c, err := tls.Dial("tcp", r.addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		r.waitLen(t, want)
		return c
	}
	a := dial(1)
	expect(t, a, "<announce> 127.0.0.1 is connected as <user4>.\n<announce> already connected: nobody.\n")
	b := dial(2)
	expect(t, a, "<announce> 127.0.0.1 is connected as <user5>.\n<announce> already connected: 127.0.0.1 as <user4>.\n")
	expect(t, b, "<announce> 127.0.0.1 is connected as <user5>.\n<announce> already connected: 127.0.0.1 as <user4>.\n")
	b.Write([]byte("over tls\n"))
	expect(t, a, "<user5> over tls\n")
	b.Close()
	expect(t, a, "<announce> <user5> is disconnected.\n")
}

func TestFeed(t *testing.T) {
	for _, chat := range []bool{false, true} {
		r := newRoom(t, hub.Options{Chat: chat, FirstID: 4}, nil)
		a := r.dial(t, "127.0.0.1", 1)
		b := r.dial(t, "127.0.0.2", 2)
		if chat {
			io.CopyN(io.Discard, a, int64(len("<announce> 127.0.0.1 is connected as <user4>.\n<announce> already connected: nobody.\n")))
			for _, c := range []net.Conn{a, b} {
				expect(t, c, "<announce> 127.0.0.2 is connected as <user5>.\n<announce> already connected: 127.0.0.1 as <user4>.\n")
			}
		}
		if err := r.Feed(strings.NewReader("from stdin\nand a tail")); err != nil {
			t.Fatal(err)
		}
		want := "from stdin\nand a tail"
		if chat {
			want = "<user0> from stdin\n<user0> and a tail"
		}
		expect(t, a, want)
		expect(t, b, want)
	}
}

func TestCloseAndRefuse(t *testing.T) {
	r := newRoom(t, hub.Options{}, nil)
	a := r.dial(t, "127.0.0.1", 1)
	left := make(chan error, 1)
	c1, c2 := net.Pipe() // a conn the hub cannot poll
	defer c2.Close()
	if err := r.Join(pipeConn{c1}, func(err error) { left <- err }); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r.Len() != 0 {
		t.Errorf("%d clients after Close", r.Len())
	}
	<-left
	a.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a client of a closed hub reads %v, want EOF", err)
	}
	if err := r.Join(pipeConn{c2}, nil); err != hub.ErrClosed {
		t.Errorf("Join after Close: %v, want ErrClosed", err)
	}
}

// pipeConn gives net.Pipe's conns a CloseWrite.
type pipeConn struct{ net.Conn }

func (p pipeConn) CloseWrite() error { return p.Close() }

// TestLinkedRooms joins two hubs into one room, as two processes would:
// each forwards what its clients say to the other's Inject.
func TestLinkedRooms(t *testing.T) {
	// The links are set after both rooms exist; sockets carry no
	// happens-before the race detector can see, hence the atomics.
	var toA, toB atomic.Pointer[room]
	a := newRoom(t, hub.Options{Chat: true, FirstID: 4, Forward: func(p []byte) { toB.Load().Inject(p) }}, nil)
	b := newRoom(t, hub.Options{Chat: true, FirstID: 1004, Forward: func(p []byte) { toA.Load().Inject(p) }}, nil)
	toA.Store(a)
	toB.Store(b)
	x := a.dial(t, "127.0.0.1", 1)
	readLine(t, x)
	readLine(t, x)
	y := b.dial(t, "127.0.0.2", 1)
	readLine(t, y)
	readLine(t, y)
	x.Write([]byte("from a\n"))
	expect(t, y, "<user4> from a\n")
	y.Write([]byte("from b\n"))
	expect(t, x, "<user1004> from b\n")
}

// TestChurn has clients join, talk, stall and leave all at once in a chat
// room with a small backlog, under the race detector in CI: every line a
// client hears is whole, and the room ends empty with nothing leaked.
func TestChurn(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	t.Run("room", func(t *testing.T) {
		r := newRoom(t, hub.Options{Chat: true, FirstID: 4, Backlog: 64 << 10, Grace: 50 * time.Millisecond}, nil)
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		for w := range 8 {
			wg.Go(func() {
				for round := range 25 {
					d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 3, byte(1+w))}}
					c, err := d.Dial("tcp", r.addr)
					if err != nil {
						errs <- err
						return
					}
					switch round % 3 {
					case 0: // talk and listen
						for i := range 20 {
							fmt.Fprintf(c, "w%d r%d line %d %s\n", w, round, i, strings.Repeat("y", i*50))
						}
						// Whole lines only: the deadline (or a cut-off) may end
						// the stream mid-line.
						c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
						br := bufio.NewReader(c)
						for {
							l, err := br.ReadString('\n')
							if err != nil {
								break
							}
							if !strings.HasPrefix(l, "<user") && !strings.HasPrefix(l, "<announce> ") {
								errs <- fmt.Errorf("torn line %q", l)
							}
						}
					case 1: // stall: never read, talk a lot, then vanish
						c.(*net.TCPConn).SetReadBuffer(4096)
						big := strings.Repeat("z", 8<<10) + "\n"
						for range 20 {
							c.SetWriteDeadline(time.Now().Add(time.Second))
							if _, err := io.WriteString(c, big); err != nil {
								break
							}
						}
					case 2: // half-close at once
						c.(*net.TCPConn).CloseWrite()
						io.Copy(io.Discard, c)
					}
					c.Close()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		r.waitLen(t, 0)
	})
	for deadline := time.Now().Add(10 * time.Second); runtime.NumGoroutine() > goroutines; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, had %d", runtime.NumGoroutine(), goroutines)
		}
	}
}
