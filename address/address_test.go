package address

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{"TCP:db:5432", Spec{Kind: TCP, Args: []string{"db", "5432"}}},
		{"tcp6:[::1]:80,bind=[::1]:5000", Spec{Kind: TCP, Args: []string{"[::1]", "80"}, Options: []Option{{"pf", "ip6"}, {"bind", "[::1]:5000"}}}},
		{"TCP-LISTEN:8080,fork,reuseaddr", Spec{Kind: TCPListen, Args: []string{"8080"}, Options: []Option{{"fork", ""}, {"reuseaddr", ""}}}},
		{"UNIX-LISTEN:/run/x.sock,unlink-early", Spec{Kind: UnixListen, Args: []string{"/run/x.sock"}, Options: []Option{{"unlink-early", ""}}}},
		{"-", Spec{Kind: Stdio}},
		{"EXEC:'cat -n',pty", Spec{Kind: Exec, Args: []string{"cat -n"}, Options: []Option{{"pty", ""}}}},
		{"SYSTEM:echo a:b", Spec{Kind: System, Args: []string{"echo a:b"}}},
		{"ABSTRACT-LISTEN:name", Spec{Kind: UnixListen, Args: []string{"name"}, Options: []Option{{"abstract", ""}}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("Parse(%q.String() = %q) = %#v, %v", tt.in, got.String(), again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"", "FOO:1", "TCP:host", "TCP-LISTEN", "STDIO:x", "EXEC"} {
		if s, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %v, want error", in, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"TCP:a:1", "tcp6:[::1]:80,bind=x", "EXEC:'a b',pty", `UNIX:/x\,y`, "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in)
		if err != nil {
			return
		}
		again, err := Parse(s.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q fails: %v", in, s.String(), err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(s)) {
			t.Fatalf("round trip of %q: %#v != %#v", in, again, s)
		}
	})
}

// normalize treats nil and empty slices alike.
func normalize(s Spec) Spec {
	if len(s.Args) == 0 {
		s.Args = nil
	}
	if len(s.Options) == 0 {
		s.Options = nil
	}
	return s
}
