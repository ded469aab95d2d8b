package loadgen_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/internal/testenv"
	"github.com/sockit/sockit/loadgen"
	"github.com/sockit/sockit/proxyserver"
	"github.com/sockit/sockit/stream"
)

// serve starts a bench server on listen and returns where it listens.
func serve(t *testing.T, listen string) string {
	t.Helper()
	spec := address.MustParse(listen)
	ln, err := endpoint.Listen(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	k := spec.Kind
	s := &loadgen.Server{Datagram: k == address.UDPListen || k == address.UnixRecvfrom}
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return endpoint.Addr(ln.Addr())
}

func dialer(spec string) func(context.Context) (stream.Conn, error) {
	s := address.MustParse(spec)
	return func(ctx context.Context) (stream.Conn, error) { return endpoint.Dial(ctx, s) }
}

// socks5 runs sockit's SOCKS5 server on loopback and returns its address.
func socks5(t *testing.T) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	srv := &proxyserver.Server{Type: "socks5"}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); srv.Serve(ctx, c) }()
		}
	}()
	return ln.Addr().String()
}

// TestModes runs every mode over every kind of address a user names:
// TCP, Unix stream, TLS, UDP and TCP through a SOCKS5 proxy, bounded by
// count so the run does not depend on the clock, and checks that what
// was counted is what was asked.
func TestModes(t *testing.T) {
	dir := t.TempDir()
	tcp := serve(t, "TCP-LISTEN:0,bind=127.0.0.1")
	unix := filepath.Join(dir, "b.sock")
	serve(t, "UNIX-LISTEN:"+unix)
	tlsAddr := serve(t, "OPENSSL-LISTEN:0,bind=127.0.0.1")
	udp := serve(t, "UDP-LISTEN:0,bind=127.0.0.1,fork")
	proxy := socks5(t)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	streams := map[string]string{
		"tcp":    "TCP:" + tcp,
		"unix":   "UNIX-CONNECT:" + unix,
		"tls":    "OPENSSL:127.0.0.1:" + tlsPort + ",verify=0",
		"socks5": "TCP:" + tcp + ",via=socks5://" + proxy,
	}
	for name, addr := range streams {
		t.Run(name, func(t *testing.T) {
			for _, c := range []loadgen.Config{
				{Mode: loadgen.Throughput, Count: 4 << 20, Size: 64 << 10},
				{Mode: loadgen.Throughput, Direction: loadgen.Down, Count: 4 << 20, Streams: 2},
				{Mode: loadgen.Throughput, Direction: loadgen.Both, Count: 4 << 20},
				{Mode: loadgen.RR, Count: 500, Streams: 2, Size: 100, Reply: 10, ReplyMax: 3000},
				{Mode: loadgen.Connect, Count: 50, Streams: 2},
			} {
				c.Address, c.Dial, c.Duration = addr, dialer(addr), time.Minute
				res, err := loadgen.Run(context.Background(), c)
				if err != nil {
					t.Fatalf("%s %s: %v", c.Mode, c.Direction, err)
				}
				e := res.End
				if e.Errors != 0 {
					t.Errorf("%s %s: %d errors, first %s", c.Mode, c.Direction, e.Errors, e.FirstError)
				}
				switch c.Mode {
				case loadgen.Throughput:
					want := c.Count
					if c.Direction == loadgen.Both {
						want *= 2 // -n is each way, as iperf3's with --bidir
					}
					if e.Bytes != want {
						t.Errorf("%s: moved %d bytes, want %d", c.Direction, e.Bytes, want)
					}
					if c.Direction != loadgen.Down && e.ServerReceived != e.Sent {
						t.Errorf("%s: sent %d, the server read %d", c.Direction, e.Sent, e.ServerReceived)
					}
				default:
					if e.Ops != c.Count || e.Latency == nil || e.Latency.Count != c.Count {
						t.Errorf("%s: %d ops, latency %+v; asked for %d", c.Mode, e.Ops, e.Latency, c.Count)
					}
				}
				if c.Mode == loadgen.Connect && (e.FirstByte == nil || e.FirstByte.P50 < e.Latency.P50) {
					t.Errorf("connect: first byte %+v before the connection %+v", e.FirstByte, e.Latency)
				}
				if c.Mode == loadgen.Connect && (e.Handshake != nil) != (name == "tls") {
					t.Errorf("connect: handshake %+v over %s", e.Handshake, name)
				}
			}
		})
	}
	t.Run("udp", func(t *testing.T) {
		c := loadgen.Config{Mode: loadgen.UDPMode, Address: "UDP:" + udp, Dial: dialer("UDP:" + udp),
			Count: 500, Rate: 5000, Size: 200}
		res, err := loadgen.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		u := res.End.UDP
		if u == nil || u.Sent != 500 || u.Received+u.Lost != 500 || u.Duplicates != 0 {
			t.Fatalf("udp: %+v", u)
		}
		if res.End.OneWay == nil || res.End.Latency == nil || u.ClockWarning == "" {
			t.Errorf("udp: one-way %+v, round trip %+v, clock warning %q", res.End.OneWay, res.End.Latency, u.ClockWarning)
		}
	})
}

// TestCoordinatedOmission holds every 100th reply for 50 ms. On a
// schedule (--rate) the requests the stall held back are charged with
// their wait, so p99 shows the stall; as fast as replies come (closed
// loop) only the 1 % held replies are slow, and p99 hides it.
func TestCoordinatedOmission(t *testing.T) {
	addr := "TCP:" + serve(t, "TCP-LISTEN:0,bind=127.0.0.1")
	const stall = 50 * time.Millisecond
	base := loadgen.Config{Mode: loadgen.RR, Address: addr, Dial: dialer(addr), Count: 1000,
		Delay: stall, DelayEvery: 100}
	open := base
	open.Rate = 1000
	res, err := loadgen.Run(context.Background(), open)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.End.Latency; got.P99 < float64(stall.Microseconds()) {
		t.Errorf("open loop: p99 %.0fµs, below the %v stall", got.P99, stall)
	}
	if res.Start.Test.Loop != "open" {
		t.Errorf("open loop reported as %q", res.Start.Test.Loop)
	}
	res, err = loadgen.Run(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	got := res.End.Latency
	if got.Max < float64(stall.Microseconds()) {
		t.Errorf("closed loop: max %.0fµs, below the %v stall it met", got.Max, stall)
	}
	if got.P99 >= float64(stall.Microseconds()) {
		t.Errorf("closed loop: p99 %.0fµs; only 1%% of replies were held", got.P99)
	}
	if res.Start.Test.Loop != "closed" {
		t.Errorf("closed loop reported as %q", res.Start.Test.Loop)
	}
}

// TestUDPDrop tells the server to drop 1 % of datagrams and expects 1 %
// ± 0.2 reported lost.
func TestUDPDrop(t *testing.T) {
	addr := "UDP:" + serve(t, "UDP-LISTEN:0,bind=127.0.0.1,fork")
	res, err := loadgen.Run(context.Background(), loadgen.Config{Mode: loadgen.UDPMode, Address: addr,
		Dial: dialer(addr), Count: 10000, Rate: 4000, Drop: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	// The server drops one datagram in a hundred, evenly; a loaded
	// machine (CI runs every package at once, under -race) may drop a few
	// more on loopback, never fewer. At 4,000 a second there is room.
	u := res.End.UDP
	if u.LostPercent < 0.95 || u.LostPercent > 1.2 {
		t.Errorf("lost %.2f%% (%d of %d); the server dropped 1%%", u.LostPercent, u.Lost, u.Sent)
	}
}

// TestPlainEcho: a client that does not open with the bench header is
// echoed, as by any echo server.
func TestPlainEcho(t *testing.T) {
	c, err := net.Dial("tcp", serve(t, "TCP-LISTEN:0,bind=127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := []byte("SOCKIT not quite the magic\n")
	c.Write(msg)
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo %q, %v; want %q", got, err, msg)
	}
}

// TestBadAsk: a malformed header ends the connection without an answer.
func TestBadAsk(t *testing.T) {
	addr := serve(t, "TCP-LISTEN:0,bind=127.0.0.1")
	for _, ask := range []string{`{"mode":"nap"}`, `{"mode":"echo","size":-1}`, `{"mode":"echo","bogus":1}`, `nope`} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(loadgen.Magic + ask + "\n" + strings.Repeat("x", 64)))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		c.Close()
		if len(got) != 0 || err != nil {
			t.Errorf("ask %s: answered %q, %v", ask, got, err)
		}
	}
}

// TestServerLeaks: after clients of every mode come and go, and the
// server stops, its goroutines and descriptors are gone.
func TestServerLeaks(t *testing.T) {
	startG, startFD := runtime.NumGoroutine(), testenv.OpenFDs(t, os.Getpid())
	t.Run("run", func(t *testing.T) {
		addr := "TCP:" + serve(t, "TCP-LISTEN:0,bind=127.0.0.1")
		uaddr := "UDP:" + serve(t, "UDP-LISTEN:0,bind=127.0.0.1,fork")
		for _, c := range []loadgen.Config{
			{Mode: loadgen.Throughput, Count: 1 << 20, Streams: 3},
			{Mode: loadgen.Throughput, Direction: loadgen.Down, Count: 1 << 20, Streams: 3},
			{Mode: loadgen.RR, Count: 100, Streams: 3},
			{Mode: loadgen.Connect, Count: 100, Streams: 3},
			{Mode: loadgen.UDPMode, Count: 100, Rate: 10000, Streams: 2},
		} {
			a := addr
			if c.Mode == loadgen.UDPMode {
				a = uaddr
			}
			c.Address, c.Dial = a, dialer(a)
			if _, err := loadgen.Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
		}
	})
	settle := func(want int, f func() int) int {
		got := f()
		for i := 0; i < 500 && got > want; i++ {
			time.Sleep(10 * time.Millisecond)
			got = f()
		}
		return got
	}
	if g := settle(startG, runtime.NumGoroutine); g > startG {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d at the start, %d after\n%s", startG, g, buf[:runtime.Stack(buf, true)])
	}
	if fd := settle(startFD, func() int { return testenv.OpenFDs(t, os.Getpid()) }); fd > startFD {
		t.Errorf("descriptors: %d at the start, %d after", startFD, fd)
	}
}

// TestCancel: a run whose context ends returns promptly with the error.
func TestCancel(t *testing.T) {
	addr := "TCP:" + serve(t, "TCP-LISTEN:0,bind=127.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := loadgen.Config{Mode: loadgen.RR, Address: addr, Dial: dialer(addr), Duration: time.Hour,
		OnInterval: func(loadgen.Interval) { cancel() }, Interval: 10 * time.Millisecond}
	res, err := loadgen.Run(ctx, cfg)
	if err != context.Canceled || res == nil || len(res.Intervals) == 0 || res.End.Ops == 0 {
		t.Fatalf("Run after cancel: %v, %+v", err, res)
	}
}

// TestOmit: warm-up intervals are reported, marked omitted, and left out
// of the totals, which add up the rest exactly.
func TestOmit(t *testing.T) {
	addr := "TCP:" + serve(t, "TCP-LISTEN:0,bind=127.0.0.1")
	res, err := loadgen.Run(context.Background(), loadgen.Config{Mode: loadgen.RR, Address: addr, Dial: dialer(addr),
		Duration: 300 * time.Millisecond, Omit: 200 * time.Millisecond, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var omitted int
	var kept, lat int64
	for _, iv := range res.Intervals {
		if iv.Omitted {
			omitted++
			continue
		}
		kept += iv.Ops
		if iv.Latency != nil {
			lat += iv.Latency.Count
		}
	}
	if omitted < 1 || omitted == len(res.Intervals) {
		t.Errorf("%d of %d intervals omitted", omitted, len(res.Intervals))
	}
	if res.End.Ops != kept || res.End.Latency.Count != lat {
		t.Errorf("end: %d ops, %d latencies; the kept intervals have %d and %d", res.End.Ops, res.End.Latency.Count, kept, lat)
	}
}
