// Package loadgen is the engine of `sockit bench`: it measures
// throughput, request/response latency, connection rate and UDP loss and
// jitter over any address sockit can dial, against a Server (`sockit bench
// serve`) on any address sockit can listen on.
//
// Latencies go into one HdrHistogram per worker, merged every interval;
// a Result carries the encoded histograms so that runs from several
// clients merge into exact percentiles (see Merge).
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/sockit/sockit/stream"
)

// The modes Run knows.
const (
	Throughput = "throughput"
	RR         = "rr"
	Connect    = "connect"
	UDPMode    = "udp"
)

// Throughput directions.
const (
	Up   = "up"   // the client sends, the server sinks
	Down = "down" // the server sends, the client reads
	Both = "both" // one of each per stream
)

// Config is one run.
type Config struct {
	Mode string
	// Address names the target in the JSON; Dial opens one connection
	// (or UDP flow) to it.
	Address string
	Dial    func(context.Context) (stream.Conn, error)
	// Direction is the throughput test's: Up (default), Down or Both.
	Direction string
	// Streams (throughput, -P) or Concurrency (rr, connect, udp, -c):
	// how many connections work at once; 0 is 1.
	Streams int
	// Duration bounds the run after Omit; Count, when set, ends it
	// sooner: bytes (throughput; each way with Both), round trips,
	// connections or datagrams.
	Duration time.Duration
	Count    int64
	// Omit is a warm-up: its intervals are reported, marked omitted, and
	// left out of End.
	Omit time.Duration
	// Interval is the reporting period; 0 is one second.
	Interval time.Duration
	// Size is the write size (throughput), the request size (rr) or the
	// datagram size (udp).
	Size int
	// Reply and ReplyMax are rr's reply sizes (see Ask).
	Reply, ReplyMax int
	// Rate is rr's requests per second over all connections (an open
	// loop: latency counts from each request's intended send time) or
	// udp's datagrams per second; 0 is a closed loop (rr) or 1,000/s (udp).
	Rate float64
	// Delay and DelayEvery ask the server to hold replies (rr); Drop asks
	// it to lose this fraction of datagrams (udp).
	Delay      time.Duration
	DelayEvery int
	Drop       float64
	// Version goes into the JSON.
	Version string
	// OnStart, if set, hears the run's Start once the connections are
	// made and before the clock starts; OnInterval each interval as it
	// closes, before the next begins.
	OnStart    func(Start)
	OnInterval func(Interval)
}

// Defaults for what a Config leaves zero.
const (
	defaultDuration = 10 * time.Second
	// defaultWrite is the throughput test's write size: twice iperf3's
	// 128 KiB, which costs a Go writer a tenth of loopback's rate here
	// (BENCHMARKS.md); -l 128K compares like with like.
	defaultWrite   = 256 << 10
	defaultRRSize  = 64
	defaultUDPSize = 64
	defaultUDPRate = 1000
)

func (c *Config) fill() error {
	if c.Dial == nil {
		return errors.New("loadgen: no Dial")
	}
	c.Streams = max(c.Streams, 1)
	if !(c.Rate >= 0) || c.Delay < 0 || c.DelayEvery < 0 {
		return fmt.Errorf("rate %v, delay %v, delay every %d: none may be negative", c.Rate, c.Delay, c.DelayEvery)
	}
	if c.Duration <= 0 && c.Count <= 0 {
		c.Duration = defaultDuration
	}
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	switch c.Mode {
	case Throughput:
		if c.Direction == "" {
			c.Direction = Up
		}
		if c.Direction != Up && c.Direction != Down && c.Direction != Both {
			return fmt.Errorf("direction %q: want up, down or both", c.Direction)
		}
		if c.Size <= 0 {
			c.Size = defaultWrite
		}
	case RR:
		if c.Size <= 0 {
			c.Size = defaultRRSize
		}
	case Connect:
	case UDPMode:
		if c.Size <= 0 {
			c.Size = defaultUDPSize
		}
		if c.Size < udpHeader {
			return fmt.Errorf("datagram size %d: at least %d bytes carry the sequence and clocks", c.Size, udpHeader)
		}
		if c.Rate <= 0 {
			c.Rate = defaultUDPRate
		}
		if c.Drop < 0 || c.Drop >= 1 {
			return fmt.Errorf("drop %v: want a fraction below 1", c.Drop)
		}
	default:
		return fmt.Errorf("mode %q: want throughput, rr, connect or udp", c.Mode)
	}
	if c.Size > maxSize || c.Reply > maxSize || c.ReplyMax > maxSize {
		return fmt.Errorf("sizes are at most %d bytes", maxSize)
	}
	return nil
}

// meter is one worker's counts and latency histograms. Counts are
// atomics; the histograms are swapped out under mu each interval.
type meter struct {
	sent, recv, ops, errs atomic.Int64

	mu    sync.Mutex
	hists [nHists]*hdr.Histogram // this interval's, by histLatency and the others
	udp   *udpFlow               // the datagram worker's accounting, nil for the others
}

func newMeter() *meter {
	m := &meter{}
	for i := range m.hists {
		m.hists[i] = newHist()
	}
	return m
}

// record adds d to histogram i.
func (m *meter) record(i int, d time.Duration) {
	m.mu.Lock()
	m.recordLocked(i, int64(d))
	m.mu.Unlock()
}

func (m *meter) recordLocked(i int, ns int64) {
	m.hists[i].RecordValue(max(ns, histLowest)) //nolint:errcheck // past 100 s it is clipped by the histogram's range
}

// fail counts an error and keeps the first.
func (r *run) fail(m *meter, err error) {
	m.errs.Add(1)
	r.errOnce.Do(func() { r.firstErr = err })
}

// run is one Run in progress.
type run struct {
	cfg     Config
	meters  []*meter
	budgets [2]atomic.Int64 // what is left of Count, per direction (the second for --bidir's downloads); unused when Count is 0
	start   time.Time
	errOnce sync.Once
	// firstErr is the first error a worker met.
	firstErr error
	// serverReceived adds up the sinks' answers.
	serverReceived atomic.Int64
}

// take claims n units of the Count budget and says how many it got; with
// no Count it grants all of n.
func (r *run) take(n int64) int64 { return r.takeFrom(0, n) }

// takeFrom is take from budget i: with Both, each direction moves Count
// bytes, as iperf3's -n with --bidir.
func (r *run) takeFrom(i int, n int64) int64 {
	if r.cfg.Count <= 0 {
		return n
	}
	left := r.budgets[i].Add(-n)
	if left >= 0 {
		return n
	}
	return max(0, n+left)
}

// Run runs one test and returns its Result. The run ends when Duration
// (after Omit) or Count is reached, or ctx ends: then the Result holds
// what was measured until then, and the error is ctx's.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	r := &run{cfg: cfg}
	r.budgets[0].Store(cfg.Count)
	r.budgets[1].Store(cfg.Count)
	var work func(ctx context.Context, m *meter, conn stream.Conn, i int) error
	dialFirst := true
	switch cfg.Mode {
	case Throughput:
		work = r.throughput
	case RR:
		work = r.rr
	case Connect:
		work, dialFirst = r.connect, false
	case UDPMode:
		work = r.udp
	}
	workers := cfg.Streams
	if cfg.Mode == Throughput && cfg.Direction == Both {
		workers *= 2
	}
	// Connections are made before the clock starts, as iperf3 does; a
	// connect test makes its own.
	conns := make([]stream.Conn, workers)
	if dialFirst {
		for i := range conns {
			c, err := cfg.Dial(ctx)
			if err != nil {
				for _, c := range conns[:i] {
					c.Close()
				}
				return nil, fmt.Errorf("connect %s: %w", cfg.Address, err)
			}
			conns[i] = c
		}
	}
	res := &Result{Start: Start{
		Version:   cfg.Version,
		Timestamp: Timestamp{Time: time.Now().UTC().Format(time.RFC1123), TimeSecs: time.Now().Unix()},
		Address:   cfg.Address,
		Test:      cfg.test(),
		Connected: workers,
	}}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		var stop context.CancelFunc
		runCtx, stop = context.WithTimeout(runCtx, cfg.Omit+cfg.Duration)
		defer stop()
	}
	r.meters = make([]*meter, workers)
	for i := range r.meters {
		r.meters[i] = newMeter()
	}
	if cfg.OnStart != nil {
		cfg.OnStart(res.Start)
	}
	r.start = time.Now()
	var wg sync.WaitGroup
	for i, m := range r.meters {
		wg.Go(func() {
			if err := work(runCtx, m, conns[i], i); err != nil && runCtx.Err() == nil {
				r.fail(m, err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	r.report(res, done, cfg.OnInterval)
	res.End = r.end(res)
	return res, ctx.Err() // interrupted: what was measured, and why it is short
}

// report closes an interval every cfg.Interval until the workers are
// done, and a last, shorter one then.
func (r *run) report(res *Result, done <-chan struct{}, onInterval func(Interval)) {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	last := make([]counts, len(r.meters))
	from := 0.0
	for {
		finished := false
		select {
		case <-t.C:
		case <-done:
			finished = true
		}
		now := time.Since(r.start).Seconds()
		if finished && now-from < r.cfg.Interval.Seconds()/100 && len(res.Intervals) > 0 {
			// a sliver after the last full interval: fold it into that one
			iv := &res.Intervals[len(res.Intervals)-1]
			r.collect(iv, last)
			iv.End, iv.Seconds = now, now-iv.Start
			iv.rates()
			return
		}
		iv := Interval{Start: from, End: now, Omitted: from < r.cfg.Omit.Seconds(), Totals: Totals{Seconds: now - from}}
		r.collect(&iv, last)
		iv.rates()
		res.Intervals = append(res.Intervals, iv)
		if onInterval != nil {
			onInterval(iv)
		}
		from = now
		if finished {
			return
		}
	}
}

// counts is a meter's counters at the last interval's close.
type counts struct{ sent, recv, ops, errs int64 }

// collect adds every meter's counts since last, and its histograms, to iv.
func (r *run) collect(iv *Interval, last []counts) {
	var hists [nHists]*hdr.Histogram
	for i := range hists {
		hists[i] = newHist()
	}
	mergeLatencies(hists, &iv.Totals) //nolint:errcheck // folding into an interval summarised here: its histograms decode
	var udp *UDP
	for i, m := range r.meters {
		now := counts{m.sent.Load(), m.recv.Load(), m.ops.Load(), m.errs.Load()}
		iv.Sent += now.sent - last[i].sent
		iv.Received += now.recv - last[i].recv
		iv.Ops += now.ops - last[i].ops
		iv.Errors += now.errs - last[i].errs
		last[i] = now
		m.mu.Lock()
		for k, h := range m.hists {
			hists[k].Merge(h)
			h.Reset()
		}
		if m.udp != nil {
			udp = m.udp.interval(udp)
		}
		m.mu.Unlock()
	}
	if udp != nil && iv.UDP != nil {
		udp = addUDP(iv.UDP, udp)
	}
	iv.UDP = udp
	iv.Bytes = iv.Sent + iv.Received
	for i, l := range iv.latencies() {
		*l = Summarise(hists[i])
	}
}

// end adds up the intervals that were not omitted.
func (r *run) end(res *Result) End {
	var kept []Interval
	for _, iv := range res.Intervals {
		if !iv.Omitted {
			kept = append(kept, iv)
		}
	}
	if len(kept) == 0 {
		kept = res.Intervals // all warm-up: report it rather than nothing
	}
	var e End
	if len(kept) > 0 {
		sum := 0.0
		for _, iv := range kept {
			sum += iv.Seconds
		}
		m, err := mergeInterval(kept)
		if err == nil {
			m.Seconds = sum
			m.rates()
			e = End{Totals: m.Totals}
		}
	}
	if r.cfg.Mode == UDPMode {
		e.UDP = r.udpTotals() // loss needs the answers that came after the last interval
	}
	e.ServerReceived = r.serverReceived.Load()
	if r.firstErr != nil {
		e.FirstError = r.firstErr.Error()
	}
	return e
}

func (c Config) test() Test {
	t := Test{
		Mode: c.Mode, Streams: c.Streams, Duration: c.Duration.Seconds(), Count: c.Count,
		Omit: c.Omit.Seconds(), Size: c.Size, Rate: c.Rate,
		Delay: c.Delay.Seconds(), DelayEvery: c.DelayEvery, DropPercent: c.Drop * 100,
	}
	switch c.Mode {
	case Throughput:
		t.Direction = c.Direction
	case RR:
		t.Reply, t.ReplyMax = c.Reply, c.ReplyMax
		t.Loop = "closed"
		if c.Rate > 0 {
			t.Loop = "open"
		}
	}
	return t
}
