package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestBenchValues(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100", 100, true}, {"64K", 64 << 10, true}, {"1m", 1 << 20, true}, {"2G", 2 << 30, true},
		{"", 0, false}, {"K", 0, false}, {"-1", 0, false}, {"1.5M", 0, false}, {"9999999999G", 0, false},
	} {
		got, err := parseCount(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseCount(%q) = %d, %v", c.in, got, err)
		}
	}
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{{"1%", 0.01, true}, {"0.25", 0.25, true}, {"100%", 0, false}, {"-1%", 0, false}, {"x", 0, false}} {
		got, err := parseShare(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseShare(%q) = %v, %v", c.in, got, err)
		}
	}
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{{"10", 10 * time.Second, true}, {"0.5", 500 * time.Millisecond, true}, {"250ms", 250 * time.Millisecond, true}, {"-3", 0, false}, {"soon", 0, false}} {
		var d benchSeconds
		err := d.Set(c.in)
		if (err == nil) != c.ok || time.Duration(d) != c.want {
			t.Errorf("benchSeconds.Set(%q) = %v, %v", c.in, time.Duration(d), err)
		}
	}
}

// FuzzBenchValues: the bench flags' value parsers refuse or accept, and
// what they accept is in range.
func FuzzBenchValues(f *testing.F) {
	for _, s := range []string{"100", "64K", "1%", "0.01", "10", "250ms", "1e400", "NaN", "-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := parseCount(s); err == nil && n < 0 {
			t.Fatalf("parseCount(%q) = %d", s, n)
		}
		if v, err := parseShare(s); err == nil && (v < 0 || v >= 1 || v != v) {
			t.Fatalf("parseShare(%q) = %v", s, v)
		}
		var d benchSeconds
		if err := d.Set(s); err == nil && d < 0 {
			t.Fatalf("benchSeconds.Set(%q) = %v", s, time.Duration(d))
		}
	})
}

// TestHelpSubcommand: `sockit help bench` is `sockit bench --help`, and a
// typo'd topic is told the subcommand.
func TestHelpSubcommand(t *testing.T) {
	run := func(args ...string) (string, string, int) {
		var out, errb strings.Builder
		code := Main(context.Background(), append([]string{"sockit"}, args...), strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), code
	}
	viaHelp, _, code := run("help", "bench")
	direct, _, _ := run("bench", "--help")
	if code != 0 || viaHelp != direct || !strings.Contains(viaHelp, "sockit bench serve") {
		t.Errorf("help bench (exit %d) differs from bench --help:\n%s", code, viaHelp)
	}
	if _, stderr, code := run("help", "benhc"); code != 2 || !strings.Contains(stderr, "did you mean bench") {
		t.Errorf("help benhc: exit %d, %q", code, stderr)
	}
}

// TestBenchMeta: every bench option that takes a value has its name in
// the help (benchMeta), and benchMeta names no option that is gone.
func TestBenchMeta(t *testing.T) {
	var b benchFlags
	fs := b.flagSet()
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := benchMeta[f.Name]; ok == (f.Value.Type() == "bool") {
			t.Errorf("--%s (%s): benchMeta %q", f.Name, f.Value.Type(), benchMeta[f.Name])
		}
	})
	for name := range benchMeta {
		if fs.Lookup(name) == nil {
			t.Errorf("benchMeta names --%s, which bench does not take", name)
		}
	}
}
