package loadgen

import (
	"fmt"
	"math"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds from 1 ns to 100 s with three
// significant digits: about 220 KiB per histogram.
const (
	histLowest  = 1
	histHighest = int64(100 * time.Second)
	histDigits  = 3
)

func newHist() *hdr.Histogram { return hdr.New(histLowest, histHighest, histDigits) }

// Result is one run, in iperf3's shape where it fits: what was asked and
// when (Start), one entry per interval, and the totals (End). Encoded as
// JSON it is what `sockit bench --json` prints and what `bench report`
// and `bench compare` read.
type Result struct {
	Start     Start      `json:"start"`
	Intervals []Interval `json:"intervals"`
	End       End        `json:"end"`
}

// Start tells what ran: the address, the test and when.
type Start struct {
	Version   string    `json:"version"`
	Timestamp Timestamp `json:"timestamp"`
	Address   string    `json:"address"`
	Test      Test      `json:"test_start"`
	// Connected is how many connections (or UDP flows) the run held.
	Connected int `json:"connected"`
}

// Timestamp is iperf3's: the start as text and as Unix seconds.
type Timestamp struct {
	Time     string `json:"time"`
	TimeSecs int64  `json:"timesecs"`
}

// Test is the configuration a run used, as the JSON tells it.
type Test struct {
	Mode        string  `json:"mode"`
	Direction   string  `json:"direction,omitempty"`
	Streams     int     `json:"num_streams"`
	Duration    float64 `json:"duration"`
	Count       int64   `json:"count,omitempty"`
	Omit        float64 `json:"omit"`
	Size        int     `json:"blksize"`
	Reply       int     `json:"reply,omitempty"`
	ReplyMax    int     `json:"reply_max,omitempty"`
	Rate        float64 `json:"rate,omitempty"`
	Loop        string  `json:"loop,omitempty"` // rr: "open" (--rate) or "closed"
	Delay       float64 `json:"server_delay,omitempty"`
	DelayEvery  int     `json:"server_delay_every,omitempty"`
	DropPercent float64 `json:"server_drop_percent,omitempty"`
}

// Totals are what an interval and a whole run both count. Bytes are
// payload bytes the client sent and received; Ops count round trips,
// connections or datagrams.
type Totals struct {
	Seconds  float64 `json:"seconds"`
	Sent     int64   `json:"bytes_sent"`
	Received int64   `json:"bytes_received"`
	Bytes    int64   `json:"bytes"`
	BPS      float64 `json:"bits_per_second"`
	Ops      int64   `json:"ops"`
	OpsRate  float64 `json:"ops_per_second"`
	Errors   int64   `json:"errors"`
	// Latency is the round trip (rr, udp) or the time to connect, proxy
	// negotiation included (connect); Handshake is a connect test's TLS
	// handshake and FirstByte its time from the start to the first byte
	// back; OneWay is udp's forward delay.
	Latency   *Latency `json:"latency,omitempty"`
	Handshake *Latency `json:"handshake,omitempty"`
	FirstByte *Latency `json:"first_byte,omitempty"`
	OneWay    *Latency `json:"one_way,omitempty"`
	UDP       *UDP     `json:"udp,omitempty"`
}

// Interval is one reporting period.
type Interval struct {
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Omitted bool    `json:"omitted"`
	Totals
}

// The latencies an interval or a run reports, by index: a worker keeps
// one histogram of each.
const (
	histLatency = iota
	histHandshake
	histFirstByte
	histOneWay
	nHists
)

// latencies points at t's latency fields, by index.
func (t *Totals) latencies() [nHists]**Latency {
	return [nHists]**Latency{&t.Latency, &t.Handshake, &t.FirstByte, &t.OneWay}
}

// End is the run's totals, omitted intervals left out.
type End struct {
	Totals
	// ServerReceived is what sink streams reported having read, over
	// the whole run (omitted seconds included), as iperf3's receiver.
	ServerReceived int64  `json:"server_received,omitempty"`
	FirstError     string `json:"first_error,omitempty"`
}

// UDP is the datagram test's accounting. Lost counts datagrams sent
// and never answered (either way); Jitter is RFC 3550's interarrival
// jitter of the forward path, in milliseconds.
type UDP struct {
	Sent        int64   `json:"sent"`
	Received    int64   `json:"received"`
	Lost        int64   `json:"lost"`
	LostPercent float64 `json:"lost_percent"`
	Duplicates  int64   `json:"duplicates"`
	Reordered   int64   `json:"reordered"`
	JitterMs    float64 `json:"jitter_ms"`
	// ClockWarning is set when one-way delay is reported: it is true
	// only if the two hosts' clocks agree.
	ClockWarning string `json:"clock_warning,omitempty"`
}

// Latency summarises a histogram in microseconds and carries the
// histogram itself (HdrHistogram's V2 compressed encoding, base64), so
// that runs merge into exact percentiles.
type Latency struct {
	Unit      string  `json:"unit"`
	Count     int64   `json:"count"`
	Min       float64 `json:"min"`
	Mean      float64 `json:"mean"`
	P50       float64 `json:"p50"`
	P90       float64 `json:"p90"`
	P99       float64 `json:"p99"`
	P999      float64 `json:"p99.9"`
	P9999     float64 `json:"p99.99"`
	Max       float64 `json:"max"`
	Histogram string  `json:"histogram"`
}

// Summarise turns a histogram of nanoseconds into a Latency; nil when
// it holds nothing.
func Summarise(h *hdr.Histogram) *Latency {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	us := func(ns int64) float64 { return math.Round(float64(ns)/10) / 100 }
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil {
		enc = nil // cannot happen for a histogram of ours; the summary stands without it
	}
	q := h.ValueAtPercentiles([]float64{50, 90, 99, 99.9, 99.99})
	return &Latency{
		Unit:  "us",
		Count: h.TotalCount(),
		Min:   us(h.Min()), Mean: math.Round(h.Mean()/10) / 100,
		P50: us(q[50]), P90: us(q[90]), P99: us(q[99]), P999: us(q[99.9]), P9999: us(q[99.99]),
		Max:       us(h.Max()),
		Histogram: string(enc),
	}
}

// Hist decodes the histogram a Latency carries.
func (l *Latency) Hist() (*hdr.Histogram, error) {
	if l == nil || l.Histogram == "" {
		return nil, fmt.Errorf("no histogram")
	}
	h, err := hdr.Decode([]byte(l.Histogram))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// Merge adds the runs into one, as if one client had run them all at
// once: byte and op counts add, interval by interval, and latencies
// merge as histograms, so percentiles stay exact (p99s are never
// averaged). The runs must be of the same mode.
func Merge(runs ...*Result) (*Result, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	out := &Result{Start: runs[0].Start}
	out.Start.Address = ""
	out.Start.Connected = 0
	for i, r := range runs {
		if r.Start.Test.Mode != out.Start.Test.Mode {
			return nil, fmt.Errorf("run %d is %s, run 1 is %s", i+1, r.Start.Test.Mode, out.Start.Test.Mode)
		}
		if out.Start.Address == "" {
			out.Start.Address = r.Start.Address
		} else if out.Start.Address != r.Start.Address {
			out.Start.Address = "(several)"
		}
		out.Start.Connected += r.Start.Connected
	}
	n := 0
	for _, r := range runs {
		n = max(n, len(r.Intervals))
	}
	for i := range n {
		var parts []Interval
		for _, r := range runs {
			if i < len(r.Intervals) {
				parts = append(parts, r.Intervals[i])
			}
		}
		iv, err := mergeInterval(parts)
		if err != nil {
			return nil, fmt.Errorf("interval %d: %w", i+1, err)
		}
		out.Intervals = append(out.Intervals, iv)
	}
	var ends []Interval
	for _, r := range runs {
		ends = append(ends, Interval{Totals: r.End.Totals})
	}
	e, err := mergeInterval(ends)
	if err != nil {
		return nil, fmt.Errorf("end: %w", err)
	}
	out.End = End{Totals: e.Totals}
	for _, r := range runs {
		out.End.ServerReceived += r.End.ServerReceived
		if out.End.FirstError == "" {
			out.End.FirstError = r.End.FirstError
		}
	}
	return out, nil
}

// mergeInterval adds parts that ran over the same period.
func mergeInterval(parts []Interval) (Interval, error) {
	out := parts[0]
	out.Sent, out.Received, out.Bytes, out.Ops, out.Errors = 0, 0, 0, 0, 0
	var hists [nHists]*hdr.Histogram
	for i := range hists {
		hists[i] = newHist()
	}
	var udp *UDP
	for _, p := range parts {
		out.Seconds = max(out.Seconds, p.Seconds)
		out.Omitted = out.Omitted && p.Omitted
		out.Sent += p.Sent
		out.Received += p.Received
		out.Bytes += p.Bytes
		out.Ops += p.Ops
		out.Errors += p.Errors
		if err := mergeLatencies(hists, &p.Totals); err != nil {
			return Interval{}, err
		}
		if p.UDP != nil {
			if udp == nil {
				udp = &UDP{ClockWarning: p.UDP.ClockWarning}
			}
			udp.Sent += p.UDP.Sent
			udp.Received += p.UDP.Received
			udp.Lost += p.UDP.Lost
			udp.Duplicates += p.UDP.Duplicates
			udp.Reordered += p.UDP.Reordered
			udp.JitterMs = max(udp.JitterMs, p.UDP.JitterMs) // the worst flow's: jitter does not add
		}
	}
	if udp != nil && udp.Sent > 0 {
		udp.LostPercent = percent(udp.Lost, udp.Sent)
	}
	out.UDP = udp
	for i, l := range out.latencies() {
		*l = Summarise(hists[i])
	}
	out.rates()
	return out, nil
}

// mergeLatencies adds the histograms t carries into hists.
func mergeLatencies(hists [nHists]*hdr.Histogram, t *Totals) error {
	for i, l := range t.latencies() {
		if *l == nil {
			continue
		}
		h, err := (*l).Hist()
		if err != nil {
			return err
		}
		hists[i].Merge(h)
	}
	return nil
}

// rates fills the per-second figures from the counts.
func (t *Totals) rates() {
	if t.Seconds > 0 {
		t.BPS = float64(t.Bytes) * 8 / t.Seconds
		t.OpsRate = float64(t.Ops) / t.Seconds
	}
}

func percent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)*1e6/float64(whole)) / 1e4
}
