package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"syscall"
	"time"

	"github.com/sockit/sockit/stream"
)

// udpFlow is one datagram worker's accounting, guarded by its meter's mu.
type udpFlow struct {
	seen    []uint64 // a bit per sequence number answered
	highest int64    // the highest sequence answered, -1 before any
	// totals and the counts since the last interval
	total, delta UDP
	// RFC 3550 interarrival jitter, in nanoseconds, over the forward
	// path's transit times (server arrival minus client send)
	jitter      float64
	lastTransit int64
	haveTransit bool
	maxRTT      time.Duration
}

// answered records the answer to seq; it says whether it was new.
func (f *udpFlow) answered(seq int64) bool {
	w := int(seq / 64)
	for w >= len(f.seen) {
		f.seen = append(f.seen, 0)
	}
	bit := uint64(1) << (seq % 64)
	if f.seen[w]&bit != 0 {
		f.total.Duplicates++
		f.delta.Duplicates++
		return false
	}
	f.seen[w] |= bit
	f.total.Received++
	f.delta.Received++
	if seq < f.highest {
		f.total.Reordered++
		f.delta.Reordered++
	}
	f.highest = max(f.highest, seq)
	return true
}

// transit folds one forward transit time into the jitter estimate:
// J += (|D| - J) / 16, D the change in transit between arrivals.
func (f *udpFlow) transit(ns int64) {
	if f.haveTransit {
		d := math.Abs(float64(ns - f.lastTransit))
		f.jitter += (d - f.jitter) / 16
	}
	f.lastTransit, f.haveTransit = ns, true
}

// interval adds the counts since the last call to acc and starts anew.
func (f *udpFlow) interval(acc *UDP) *UDP {
	d := f.delta
	f.delta = UDP{}
	if acc == nil {
		return &d
	}
	return addUDP(acc, &d)
}

func addUDP(a, b *UDP) *UDP {
	return &UDP{
		Sent: a.Sent + b.Sent, Received: a.Received + b.Received, Lost: a.Lost + b.Lost,
		Duplicates: a.Duplicates + b.Duplicates, Reordered: a.Reordered + b.Reordered,
		JitterMs: max(a.JitterMs, b.JitterMs), ClockWarning: a.ClockWarning,
	}
}

// The clock warning one-way delays carry.
const clockWarning = "one-way delay compares the client's clock with the server's; it holds only if they agree (one host, or PTP)"

// udp sends numbered, timestamped datagrams on a fixed schedule and
// accounts for their answers: round trip, one-way delay, loss,
// duplicates, reordering and jitter.
func (r *run) udp(ctx context.Context, m *meter, conn stream.Conn, _ int) error {
	f := &udpFlow{highest: -1}
	f.total.ClockWarning = clockWarning
	f.delta.ClockWarning = clockWarning
	m.mu.Lock()
	m.udp = f
	m.mu.Unlock()
	received := make(chan struct{})
	go func() {
		defer close(received)
		r.udpReceive(m, f, conn)
	}()
	err := r.udpSend(ctx, m, f, conn)
	// Wait for the stragglers: four of the slowest round trips seen, at
	// least 200 ms and at most 2 s; then say goodbye and stop reading.
	m.mu.Lock()
	grace := min(max(4*f.maxRTT, 200*time.Millisecond), 2*time.Second)
	m.mu.Unlock()
	t := time.NewTimer(grace)
	select {
	case <-received:
	case <-t.C:
	}
	t.Stop()
	fin := make([]byte, udpHeader)
	copy(fin, udpMagic)
	fin[offKind] = udpFin
	conn.Write(fin) //nolint:errcheck // the server also forgets a silent flow
	conn.Close()
	<-received
	m.mu.Lock()
	f.total.Lost = f.total.Sent - f.total.Received
	f.delta.Lost = 0
	m.mu.Unlock()
	return quiet(ctx, err)
}

func (r *run) udpSend(ctx context.Context, m *meter, f *udpFlow, conn stream.Conn) error {
	d := make([]byte, r.cfg.Size)
	copy(d, udpMagic)
	binary.BigEndian.PutUint32(d[offDrop:], uint32(math.Round(r.cfg.Drop*1e6)))
	every := time.Duration(float64(time.Second) * float64(r.cfg.Streams) / r.cfg.Rate)
	next := time.Now()
	for seq := int64(0); ctx.Err() == nil; seq++ {
		if r.take(1) == 0 {
			return nil
		}
		if wait := time.Until(next); wait > 0 {
			pause(ctx, wait)
			if ctx.Err() != nil {
				return nil
			}
		}
		next = next.Add(every)
		binary.BigEndian.PutUint64(d[offSeq:], uint64(seq))
		binary.BigEndian.PutUint64(d[offSent:], uint64(time.Now().UnixNano()))
		if _, err := conn.Write(d); err != nil {
			// ICMP refusals come back as write errors on a connected
			// socket: the datagram counts as sent and lost.
			r.fail(m, err)
		}
		m.mu.Lock()
		f.total.Sent++
		f.delta.Sent++
		m.mu.Unlock()
		m.ops.Add(1)
		m.sent.Add(int64(len(d)))
	}
	return nil
}

func (r *run) udpReceive(m *meter, f *udpFlow, conn stream.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := conn.Read(buf)
		now := time.Now()
		if err != nil {
			if isRefused(err) {
				continue // the server is not there (yet): the sends count the loss
			}
			return
		}
		d := buf[:n]
		if n < udpHeader || string(d[:4]) != udpMagic || d[offKind] != udpData {
			continue
		}
		seq := int64(binary.BigEndian.Uint64(d[offSeq:]))
		sent := int64(binary.BigEndian.Uint64(d[offSent:]))
		arrived := int64(binary.BigEndian.Uint64(d[offArrived:]))
		rtt := time.Duration(now.UnixNano() - sent)
		m.recv.Add(int64(n))
		m.mu.Lock()
		if f.answered(seq) {
			f.transit(arrived - sent)
			f.maxRTT = max(f.maxRTT, rtt)
			m.recordLocked(histLatency, int64(rtt))
			m.recordLocked(histOneWay, arrived-sent) // a clock behind ours clips to the floor
			f.delta.JitterMs = math.Round(f.jitter/1e3) / 1e3
		}
		m.mu.Unlock()
	}
}

// jitter is the worst flow's jitter in milliseconds.
func (r *run) jitter() float64 {
	j := 0.0
	for _, m := range r.meters {
		m.mu.Lock()
		if m.udp != nil {
			j = max(j, m.udp.jitter/1e6)
		}
		m.mu.Unlock()
	}
	return math.Round(j*1e3) / 1e3
}

// udpTotals adds up every flow's totals.
func (r *run) udpTotals() *UDP {
	var t *UDP
	for _, m := range r.meters {
		m.mu.Lock()
		if m.udp != nil {
			u := m.udp.total
			if t == nil {
				t = &u
			} else {
				t = addUDP(t, &u)
			}
		}
		m.mu.Unlock()
	}
	if t != nil {
		t.LostPercent = percent(t.Lost, t.Sent)
		t.JitterMs = r.jitter()
	}
	return t
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
