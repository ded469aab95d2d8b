package loadgen

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/stream"
)

// deadliner is a conn whose blocked reads and writes can be woken.
type deadliner interface{ SetDeadline(time.Time) error }

// wake makes conn's blocked calls return when ctx ends: a deadline in
// the past where the conn takes one, else a Close. The returned stop
// undoes the arrangement; it reports whether the wake-up already fired.
func wake(ctx context.Context, conn stream.Conn) func() bool {
	return context.AfterFunc(ctx, func() {
		if d, ok := conn.(deadliner); ok && d.SetDeadline(time.Unix(1, 0)) == nil {
			return
		}
		conn.Close()
	})
}

// timedOut says whether err is a deadline's, which ends a test cleanly.
func timedOut(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// throughput moves bytes one way over conn until the run ends.
func (r *run) throughput(ctx context.Context, m *meter, conn stream.Conn, i int) error {
	defer conn.Close()
	dir := r.cfg.Direction
	if dir == Both {
		dir = Up
		if i >= r.cfg.Streams {
			dir = Down
		}
	}
	if dir == Down {
		budget := 0
		if r.cfg.Direction == Both {
			budget = 1
		}
		return r.download(ctx, m, conn, budget)
	}
	return r.upload(ctx, m, conn)
}

func (r *run) upload(ctx context.Context, m *meter, conn stream.Conn) error {
	if _, err := conn.Write(Ask{Mode: Sink}.Header()); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	stop := wake(ctx, conn)
	buf := make([]byte, r.cfg.Size)
	var err error
	for ctx.Err() == nil {
		n := r.take(int64(len(buf)))
		if n == 0 {
			break
		}
		var w int
		w, err = conn.Write(buf[:n])
		m.sent.Add(int64(w))
		if err != nil {
			break
		}
	}
	stop()
	if err != nil && !timedOut(err) && ctx.Err() == nil {
		return err
	}
	// The sink answers EOF with its count, as iperf3's receiver reports.
	if d, ok := conn.(deadliner); ok {
		d.SetDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // best effort: the count is a courtesy
	}
	if err := conn.CloseWrite(); err != nil {
		return nil
	}
	var b [8]byte
	if _, err := io.ReadFull(conn, b[:]); err == nil {
		r.serverReceived.Add(int64(binary.BigEndian.Uint64(b[:])))
	}
	return nil
}

func (r *run) download(ctx context.Context, m *meter, conn stream.Conn, budget int) error {
	if _, err := conn.Write(Ask{Mode: Source, Size: r.cfg.Size}.Header()); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	defer wake(ctx, conn)()
	buf := make([]byte, max(r.cfg.Size, readSize))
	var claim int64 // bytes of the Count this stream may still read
	for {
		if claim == 0 {
			if claim = r.takeFrom(budget, int64(len(buf))); claim == 0 {
				return nil
			}
		}
		n, err := conn.Read(buf[:claim])
		m.recv.Add(int64(n))
		if r.cfg.Count > 0 {
			claim -= int64(n)
		} else {
			claim = 0
		}
		if err != nil {
			if ctx.Err() != nil || timedOut(err) {
				return nil
			}
			if err == io.EOF {
				return errors.New("the server ended the stream early")
			}
			return err
		}
	}
}

// rr sends requests and times their replies, one at a time on conn: as
// fast as they come (closed loop), or on a fixed schedule (open loop,
// Rate set) where each latency counts from the intended send time, so a
// stall is charged to every request it held back (wrk2's correction
// for coordinated omission).
func (r *run) rr(ctx context.Context, m *meter, conn stream.Conn, i int) error {
	defer conn.Close()
	a := Ask{Mode: Echo, Size: r.cfg.Size, Reply: r.cfg.Reply, ReplyMax: r.cfg.ReplyMax, Seed: uint64(i) + 1,
		Delay: Duration(r.cfg.Delay), Every: r.cfg.DelayEvery}
	if _, err := conn.Write(a.Header()); err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	defer wake(ctx, conn)()
	replies := newReplySizes(a)
	req := make([]byte, r.cfg.Size)
	reply := make([]byte, replies.max())
	var every time.Duration
	if r.cfg.Rate > 0 {
		every = time.Duration(float64(time.Second) * float64(r.cfg.Streams) / r.cfg.Rate)
	}
	next := time.Now()
	for ctx.Err() == nil {
		if r.take(1) == 0 {
			return nil
		}
		start := time.Now()
		if every > 0 {
			if wait := time.Until(next); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return nil
				case <-t.C:
				}
			}
			start = next
			next = next.Add(every)
		}
		if _, err := conn.Write(req); err != nil {
			return quiet(ctx, err)
		}
		size := replies.next()
		if _, err := io.ReadFull(conn, reply[:size]); err != nil {
			return quiet(ctx, err)
		}
		m.record(histLatency, time.Since(start))
		m.ops.Add(1)
		m.sent.Add(int64(len(req)))
		m.recv.Add(int64(size))
	}
	return nil
}

// over says whether ctx has ended or reached its deadline.
func over(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// quiet drops the error a run's end causes.
func quiet(ctx context.Context, err error) error {
	if over(ctx) || timedOut(err) {
		return nil
	}
	return err
}

// probe is the byte a connect test sends: anything but Magic's first, so
// any echo server (bench serve included) answers it at once.
const probe = 'x'

// connect opens connection after connection: each is timed to the end
// of its handshakes (TCP, and TLS or proxies where the address has
// them) and to its first byte back, then closed with a reset (SO_LINGER
// 0) so that TIME_WAIT does not use up the ports.
func (r *run) connect(ctx context.Context, m *meter, _ stream.Conn, _ int) error {
	one := []byte{probe}
	// A TLS address tells when its TCP connection is up, before the
	// handshake: the observer notes it (this worker dials one at a time).
	var tcpUp time.Time
	ctx = endpoint.WithTLSObserver(ctx, &endpoint.TLSObserver{Wire: func(raw net.Conn, _ bool) net.Conn {
		tcpUp = time.Now()
		return raw
	}})
	for ctx.Err() == nil {
		if r.take(1) == 0 {
			return nil
		}
		start := time.Now()
		tcpUp = time.Time{}
		c, err := r.cfg.Dial(ctx)
		if err != nil {
			if over(ctx) {
				return nil // the dialer's deadline is the run's, and may fire first
			}
			r.fail(m, err)
			pause(ctx, 10*time.Millisecond) // a refusing server is not hammered
			continue
		}
		opened := time.Now()
		stop := wake(ctx, c)
		_, err = c.Write(one)
		if err == nil {
			_, err = io.ReadFull(c, one)
		}
		stop()
		first := time.Since(start)
		if err != nil {
			c.Close()
			if over(ctx) {
				return nil
			}
			r.fail(m, fmt.Errorf("first byte: %w", err))
			continue
		}
		abort(c)
		m.mu.Lock()
		if tcpUp.IsZero() {
			m.recordLocked(histLatency, int64(opened.Sub(start)))
		} else {
			m.recordLocked(histLatency, int64(tcpUp.Sub(start)))
			m.recordLocked(histHandshake, int64(opened.Sub(tcpUp)))
		}
		m.recordLocked(histFirstByte, int64(first))
		m.mu.Unlock()
		m.ops.Add(1)
		m.sent.Add(1)
		m.recv.Add(1)
	}
	return nil
}

// abort closes c with a reset where it is TCP.
func abort(c stream.Conn) {
	var nc net.Conn
	switch v := c.(type) {
	case *tls.Conn:
		nc = v.NetConn()
	case net.Conn:
		nc = v
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetLinger(0) //nolint:errcheck // a plain close is the fallback
	}
	c.Close()
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
