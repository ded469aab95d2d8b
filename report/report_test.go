package report

import (
	"strings"
	"testing"

	"github.com/sockit/sockit/loadgen"
)

func TestUnits(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Micros(12.34), "12.3µs"}, {Micros(4321), "4.32ms"}, {Micros(2.5e6), "2.50s"},
		{Bytes(512), "512 Bytes"}, {Bytes(1536), "1.50 KBytes"}, {Bytes(3 << 30), "3.00 GBytes"}, {Bytes(5 << 40), "5120.00 GBytes"},
		{Bits(999), "999.00 bits/sec"}, {Bits(2.5e9), "2.50 Gbits/sec"}, {Bits(4e12), "4000.00 Gbits/sec"},
		{Number(0), "0"}, {Number(999), "999"}, {Number(1234567), "1,234,567"}, {Number(-1234), "-1,234"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func run(name, mode string, ops int64, p99 float64) Run {
	r := &loadgen.Result{Start: loadgen.Start{Test: loadgen.Test{Mode: mode}}}
	r.End.Seconds, r.End.Ops, r.End.OpsRate = 1, ops, float64(ops)
	r.End.Latency = &loadgen.Latency{P50: p99 / 2, P90: p99, P99: p99, P999: p99, Max: p99}
	return Run{Name: name, Result: r}
}

// TestCompare: each later run's figures with their ratio to the first's;
// runs of different modes are refused, and so is one run alone.
func TestCompare(t *testing.T) {
	var b strings.Builder
	if err := Compare(&b, []Run{run("a", loadgen.RR, 1000, 100), run("b", loadgen.RR, 2000, 50)}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"req/s", "1,000", "2,000", "2.00", "p99", "100.0µs", "50.0µs", "0.50"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
	if err := Compare(&b, []Run{run("a", loadgen.RR, 1, 1), run("b", loadgen.Connect, 1, 1)}); err == nil {
		t.Error("rr and connect compared")
	}
	if err := Compare(&b, []Run{run("a", loadgen.RR, 1, 1)}); err == nil {
		t.Error("one run compared")
	}
	if _, err := Chart(nil, SVG); err == nil {
		t.Error("a chart of nothing")
	}
}
