package cli

import (
	"slices"
	"testing"
	"time"

	"github.com/sockit/sockit/relay"
)

func TestGetopt(t *testing.T) {
	for _, tt := range []struct {
		argv     []string
		opts     string // letters, with =arg
		operands []string
		err      string
	}{
		{[]string{"-lvnp", "80"}, "l v n p=80", nil, ""},
		{[]string{"-p80", "host", "-v"}, "p=80 v", []string{"host"}, ""},
		{[]string{"host", "--", "-v"}, "", []string{"host", "-v"}, ""},
		{[]string{"-", "x"}, "", []string{"-", "x"}, ""},
		{[]string{"-Y"}, "", nil, "invalid option -- 'Y'"},
		{[]string{"-vp"}, "", nil, "option requires an argument -- 'p'"},
	} {
		opts, operands, err := getopt(tt.argv, "lvnp:")
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.argv, err, tt.err)
			}
			continue
		}
		var got []string
		for _, o := range opts {
			s := string(o.c)
			if o.arg != "" {
				s += "=" + o.arg
			}
			got = append(got, s)
		}
		if err != nil || joinSpace(got) != tt.opts || !slices.Equal(operands, tt.operands) {
			t.Errorf("%q: %q %q %v; want %q %q", tt.argv, got, operands, err, tt.opts, tt.operands)
		}
	}
}

func joinSpace(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func TestParseEOF(t *testing.T) {
	for _, tt := range []struct {
		in    string
		rules []relay.EOFRule
		bad   bool
	}{
		{"wait", nil, false},
		{"remote", []relay.EOFRule{{After: relay.BToA}}, false},
		{"stdin", []relay.EOFRule{{After: relay.AToB}}, false},
		{"drain:2", []relay.EOFRule{{After: relay.AToB, Grace: 2 * time.Second}}, false},
		{"drain:250ms", []relay.EOFRule{{After: relay.AToB, Grace: 250 * time.Millisecond}}, false},
		{"remote,drain:1s", []relay.EOFRule{{After: relay.BToA}, {After: relay.AToB, Grace: time.Second}}, false},
		{"stdin,drain:1s", nil, true},
		{"wait,remote", nil, true},
		{"drain", nil, true},
		{"remote:1", nil, true},
		{"drain:-1s", nil, true},
		{"", nil, true},
	} {
		p, err := parseEOF(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && !slices.Equal(p.rules, tt.rules)) {
			t.Errorf("%q: %v %v; want %v (bad %v)", tt.in, p.rules, err, tt.rules, tt.bad)
		}
	}
}

// The personalities' defaults, as their netcats behave (see the
// differential tests in cmd/sockit).
func TestNetcatDefaults(t *testing.T) {
	for _, tt := range []struct {
		parse      func([]string) (*ncatOptions, error)
		argv       []string
		eof        string
		noShutdown bool
	}{
		{parseOpenBSD, []string{"h", "1"}, "", true},
		{parseOpenBSD, []string{"-N", "h", "1"}, "", false},
		{parseOpenBSD, []string{"-q", "1", "h", "1"}, "", false},
		{parseOpenBSD, []string{"-l", "1"}, "remote", true},
		{parseOpenBSD, []string{"-lk", "1"}, "", true},
		{parseOpenBSD, []string{"-u", "-q", "0", "h", "1"}, "drain:0s", true},
		{parseTraditional, []string{"h", "1"}, "remote", true},
		{parseTraditional, []string{"-q", "0", "h", "1"}, "remote,stdin", false},
		{parseTraditional, []string{"-q", "2", "-l", "-p", "1"}, "remote,drain:2s", false},
	} {
		o, err := tt.parse(tt.argv)
		if err != nil || o.eofDefault != tt.eof || o.noShutdown != tt.noShutdown {
			t.Errorf("%q: %v, eof %q no-shutdown %v; want %q %v", tt.argv, err, o.eofDefault, o.noShutdown, tt.eof, tt.noShutdown)
		}
	}
}

func FuzzParseNetcats(f *testing.F) {
	for _, s := range []string{"-lvnp 8001", "-N -q 1 h 80", "-X connect -x p:3128 h 80", "-T lowdelay -I 1k h 1",
		"-l -p 1 -o /dev/null", "-e /bin/cat -c x h 1", "--eof=drain:1s -z h 1-3", "-T 0x10 -M 300 h 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, parse := range []func([]string) (*ncatOptions, error){parseOpenBSD, parseTraditional} {
			o, err := parse(splitFields(line))
			if err != nil || o.help {
				continue
			}
			if o.eofDefault != "" {
				if _, err := parseEOF(o.eofDefault); err != nil {
					t.Fatalf("%q: default policy %q does not parse: %v", line, o.eofDefault, err)
				}
			}
			buildSpec(o) //nolint:errcheck // must not panic
		}
	})
}

func FuzzParseEOF(f *testing.F) {
	for _, s := range []string{"wait", "remote,drain:1s", "drain:2", "stdin"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p, err := parseEOF(s); err == nil && len(p.terms) == 0 {
			t.Fatalf("%q parsed to no terms", s)
		}
	})
}
