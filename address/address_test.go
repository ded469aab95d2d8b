package address

import (
	"reflect"
	"strings"
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
		{"EXEC:'cat -n',setsid", Spec{Kind: Exec, Args: []string{"cat -n"}, Options: []Option{{"setsid", ""}}}},
		{"exec:cat,sid", Spec{Kind: Exec, Args: []string{"cat"}, Options: []Option{{"setsid", ""}}}},
		{"PIPE", Spec{Kind: Pipe}},
		{"pipe:/tmp/fifo", Spec{Kind: Pipe, Args: []string{"/tmp/fifo"}}},
		{"UDP-RECVFROM:53,fork,max-children=4", Spec{Kind: UDPRecvfrom, Args: []string{"53"}, Options: []Option{{"fork", ""}, {"max-children", "4"}}}},
		{"TCP:h:1,connect-timeout=1.5,retry=3,interval=200ms,rcvbuf=64k", Spec{Kind: TCP, Args: []string{"h", "1"},
			Options: []Option{{"connect-timeout", "1.5"}, {"retry", "3"}, {"interval", "200ms"}, {"rcvbuf", "64k"}}}},
		{"SYSTEM:echo a:b", Spec{Kind: System, Args: []string{"echo a", "b"}}},
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

// TestParseErrorsPoint: each refusal names the offending token and, where
// one is near, the name that was probably meant.
func TestParseErrorsPoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TCP-LISTN:8080", `unknown address type "TCP-LISTN" (did you mean TCP-LISTEN?)`},
		{"TCP:h:1,nodelayy", `unknown option "nodelayy" (did you mean nodelay?)`},
		{"OPEN:/tmp/x,fork", `option does not apply to OPEN: "fork"`},
		{"TCP:h:1,rcvbuf=lots", `bad value in "rcvbuf=lots" (want a size such as 65536 or 64k)`},
		{"TCP-LISTEN:1,max-children=-2", `bad value in "max-children=-2"`},
		{"UNIX-LISTEN:/x,mode=999", `want an octal mode`},
		{"TCP:onlyhost", `TCP wants 2 parameter(s) in "TCP:onlyhost" (TCP:<host>:<port>)`},
		{"SCTP-LISTEN:80", `address type not supported: "SCTP-LISTEN" (sockit has no SCTP`},
		{"SOCKS5:proxy:443", `SOCKS5 wants 3 parameter(s) in "SOCKS5:proxy:443" (SOCKS5:<socks-server>:<host>:<port>)`},
		{"TCP:h:1,verify=0", `option does not apply to TCP-CONNECT: "verify" (its groups are OPENSSL`},
		{"FROB:1", `unknown address type "FROB"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): %v, want it to say %s", tt.in, err, tt.want)
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
	for _, s := range []string{"TCP:a:1", "tcp6:[::1]:80,bind=x", "EXEC:'a b',pty", `UNIX:/x\,y`, "-",
		"stdin!!stdout", "-!!-", "0!!1", "pipe:x!!pipe:y", "udp:h:1!!udp:h:2", `exec:'echo (,)[,]{,}","([),])hugo'`,
		`create:"a'b'c"`, `/tmp/x,append`, `3`, `create:a\n\0b`, `open:[a:b]!!create:{c,d}`} {
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
	if s.Writer != nil {
		w := normalize(*s.Writer)
		s.Writer = &w
	}
	if len(s.Args) == 0 {
		s.Args = nil
	}
	if len(s.Options) == 0 {
		s.Options = nil
	}
	return s
}
