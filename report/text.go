// Package report renders loadgen results: interval lines and summaries
// for the terminal, ratio tables between runs, PNG and SVG charts, and
// one self-contained HTML page.
package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sockit/sockit/loadgen"
)

// Run is one result under the name it is shown by (its file's, say).
type Run struct {
	Name   string
	Result *loadgen.Result
}

// Header writes the line that opens a run's text output.
func Header(w io.Writer, s loadgen.Start) {
	t := s.Test
	var what string
	switch t.Mode {
	case loadgen.Throughput:
		what = fmt.Sprintf("throughput %s, %d stream%s, %s writes", t.Direction, t.Streams, plural(t.Streams), Bytes(int64(t.Size)))
	case loadgen.RR:
		loop := "closed loop: each latency from its actual send, so a stall hides the requests it held back; --rate for an open loop"
		if t.Loop == "open" {
			loop = fmt.Sprintf("open loop at %s req/s: each latency from its intended send (coordinated omission corrected)", Number(t.Rate))
		}
		what = fmt.Sprintf("request/response, %d connection%s, %s requests, %s", t.Streams, plural(t.Streams), Bytes(int64(t.Size)), loop)
	case loadgen.Connect:
		what = fmt.Sprintf("connect, %d worker%s, each connection reset after its first byte back", t.Streams, plural(t.Streams))
	case loadgen.UDPMode:
		what = fmt.Sprintf("udp, %d flow%s, %s datagrams at %s/s", t.Streams, plural(t.Streams), Bytes(int64(t.Size)), Number(t.Rate))
		if t.DropPercent > 0 {
			what += fmt.Sprintf(", server asked to drop %g%%", t.DropPercent)
		}
	}
	fmt.Fprintf(w, "sockit bench %s: %s\n", s.Address, what)
}

// Line writes one interval as a line of text.
func Line(w io.Writer, mode string, iv loadgen.Interval) {
	span := fmt.Sprintf("%6.2f-%-6.2f sec", iv.Start, iv.End)
	omitted := ""
	if iv.Omitted {
		omitted = "  (omitted)"
	}
	switch mode {
	case loadgen.Throughput:
		fmt.Fprintf(w, "%s  %10s  %14s%s\n", span, Bytes(iv.Bytes), Bits(iv.BPS), omitted)
	case loadgen.RR:
		fmt.Fprintf(w, "%s  %10s req/s  %s%s\n", span, Number(iv.OpsRate), percentiles(iv.Latency, false), omitted)
	case loadgen.Connect:
		fmt.Fprintf(w, "%s  %10s conn/s  connect %s  first byte p99 %s%s%s\n", span, Number(iv.OpsRate),
			percentiles(iv.Latency, false), p99(iv.FirstByte), errorsNote(iv.Errors), omitted)
	case loadgen.UDPMode:
		var sent, got int64
		if iv.UDP != nil {
			sent, got = iv.UDP.Sent, iv.UDP.Received
		}
		fmt.Fprintf(w, "%s  %8d sent  %8d answered  rtt %s%s\n", span, sent, got, percentiles(iv.Latency, false), omitted)
	}
}

// Summary writes a run's totals.
func Summary(w io.Writer, r *loadgen.Result) {
	e := r.End
	mode := r.Start.Test.Mode
	fmt.Fprintf(w, "- - - - - - - - - - - - - - - - - - - - - - - - -\n")
	switch mode {
	case loadgen.Throughput:
		fmt.Fprintf(w, "%6.2f sec  sent %s  received %s  %s", e.Seconds, Bytes(e.Sent), Bytes(e.Received), Bits(e.BPS))
		if e.ServerReceived > 0 {
			fmt.Fprintf(w, "  (server read %s)", Bytes(e.ServerReceived))
		}
		fmt.Fprintln(w)
	case loadgen.RR:
		fmt.Fprintf(w, "%6.2f sec  %d requests  %s req/s%s\n", e.Seconds, e.Ops, Number(e.OpsRate), errorsNote(e.Errors))
		fmt.Fprintf(w, "latency  %s\n", percentiles(e.Latency, true))
	case loadgen.Connect:
		fmt.Fprintf(w, "%6.2f sec  %d connections  %s conn/s%s\n", e.Seconds, e.Ops, Number(e.OpsRate), errorsNote(e.Errors))
		fmt.Fprintf(w, "connect     %s\n", percentiles(e.Latency, true))
		if e.Handshake != nil {
			fmt.Fprintf(w, "handshake   %s\n", percentiles(e.Handshake, true))
		}
		fmt.Fprintf(w, "first byte  %s\n", percentiles(e.FirstByte, true))
	case loadgen.UDPMode:
		if u := e.UDP; u != nil {
			fmt.Fprintf(w, "%6.2f sec  sent %d  answered %d  lost %d (%.2f%%)  duplicates %d  reordered %d  jitter %.3f ms\n",
				e.Seconds, u.Sent, u.Received, u.Lost, u.LostPercent, u.Duplicates, u.Reordered, u.JitterMs)
		}
		fmt.Fprintf(w, "round trip  %s\n", percentiles(e.Latency, true))
		fmt.Fprintf(w, "one way     %s\n", percentiles(e.OneWay, true))
		if e.UDP != nil && e.UDP.ClockWarning != "" {
			fmt.Fprintf(w, "note: %s\n", e.UDP.ClockWarning)
		}
	}
	if e.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", e.FirstError)
	}
}

func percentiles(l *loadgen.Latency, all bool) string {
	if l == nil {
		return "-"
	}
	if !all {
		return fmt.Sprintf("p50 %s  p99 %s  max %s", Micros(l.P50), Micros(l.P99), Micros(l.Max))
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  p99.99 %s  max %s  (n=%d)",
		Micros(l.P50), Micros(l.P90), Micros(l.P99), Micros(l.P999), Micros(l.P9999), Micros(l.Max), l.Count)
}

func p99(l *loadgen.Latency) string {
	if l == nil {
		return "-"
	}
	return Micros(l.P99)
}

func errorsNote(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("  errors %d", n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Micros formats microseconds with a unit that keeps three figures.
func Micros(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.1fµs", us)
	}
}

// Bytes formats a byte count in binary units, as iperf3 does.
func Bytes(n int64) string {
	f := float64(n)
	for _, u := range []string{"Bytes", "KBytes", "MBytes", "GBytes"} {
		if f < 1024 || u == "GBytes" {
			if u == "Bytes" {
				return fmt.Sprintf("%d Bytes", n)
			}
			return fmt.Sprintf("%.2f %s", f, u)
		}
		f /= 1024
	}
	return ""
}

// Bits formats bits per second in decimal units, as iperf3 does.
func Bits(bps float64) string {
	for _, u := range []string{"bits/sec", "Kbits/sec", "Mbits/sec", "Gbits/sec"} {
		if bps < 1000 || u == "Gbits/sec" {
			return fmt.Sprintf("%.2f %s", bps, u)
		}
		bps /= 1000
	}
	return ""
}

// Number formats a rate with thousands separators.
func Number(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// metric is one row of a comparison: how to read it from a result and
// whether more is better.
type metric struct {
	name   string
	value  func(loadgen.End) (float64, bool)
	format func(float64) string
}

func latencyMetric(name string, pick func(*loadgen.Latency) float64, of func(loadgen.End) *loadgen.Latency) metric {
	return metric{name: name, format: Micros, value: func(e loadgen.End) (float64, bool) {
		l := of(e)
		if l == nil {
			return 0, false
		}
		return pick(l), true
	}}
}

func metrics(mode string) []metric {
	lat := func(e loadgen.End) *loadgen.Latency { return e.Latency }
	rows := []metric{}
	switch mode {
	case loadgen.Throughput:
		rows = append(rows, metric{"throughput", func(e loadgen.End) (float64, bool) { return e.BPS, true }, Bits})
	case loadgen.RR:
		rows = append(rows, metric{"req/s", func(e loadgen.End) (float64, bool) { return e.OpsRate, true }, Number})
	case loadgen.Connect:
		rows = append(rows, metric{"conn/s", func(e loadgen.End) (float64, bool) { return e.OpsRate, true }, Number})
	case loadgen.UDPMode:
		rows = append(rows, metric{"datagrams/s", func(e loadgen.End) (float64, bool) { return e.OpsRate, true }, Number},
			metric{"lost %", func(e loadgen.End) (float64, bool) {
				if e.UDP == nil {
					return 0, false
				}
				return e.UDP.LostPercent, true
			}, func(f float64) string { return fmt.Sprintf("%.2f", f) }})
	}
	if mode != loadgen.Throughput {
		rows = append(rows,
			latencyMetric("p50", func(l *loadgen.Latency) float64 { return l.P50 }, lat),
			latencyMetric("p90", func(l *loadgen.Latency) float64 { return l.P90 }, lat),
			latencyMetric("p99", func(l *loadgen.Latency) float64 { return l.P99 }, lat),
			latencyMetric("p99.9", func(l *loadgen.Latency) float64 { return l.P999 }, lat),
			latencyMetric("max", func(l *loadgen.Latency) float64 { return l.Max }, lat))
	}
	return rows
}

// Compare writes a table of the runs' key figures, each later run's with
// its ratio to the first's.
func Compare(w io.Writer, runs []Run) error {
	if len(runs) < 2 {
		return fmt.Errorf("compare needs two runs or more")
	}
	mode := runs[0].Result.Start.Test.Mode
	for _, r := range runs[1:] {
		if m := r.Result.Start.Test.Mode; m != mode {
			return fmt.Errorf("%s is a %s run and %s a %s run: compare runs of one mode", runs[0].Name, mode, r.Name, m)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "\t" + runs[0].Name
	for _, r := range runs[1:] {
		head += "\t" + r.Name + "\t×"
	}
	fmt.Fprintln(tw, head+"\t")
	for _, m := range ratios(runs) {
		fmt.Fprintln(tw, m+"\t")
	}
	return tw.Flush()
}

// ratios is Compare's rows as tab-separated cells.
func ratios(runs []Run) []string {
	var rows []string
	for _, m := range metrics(runs[0].Result.Start.Test.Mode) {
		base, ok := m.value(runs[0].Result.End)
		if !ok {
			continue
		}
		row := m.name + "\t" + m.format(base)
		for _, r := range runs[1:] {
			v, ok := m.value(r.Result.End)
			switch {
			case !ok:
				row += "\t-\t-"
			case base == 0:
				row += "\t" + m.format(v) + "\t-"
			default:
				row += fmt.Sprintf("\t%s\t%.2f", m.format(v), v/base)
			}
		}
		rows = append(rows, row)
	}
	return rows
}
