package cli

import (
	"strings"
	"testing"
)

func TestBuildSpec(t *testing.T) {
	tests := []struct {
		argv string
		want string
	}{
		{"-lvnp 8001", "TCP-LISTEN:8001"},
		{"-l 127.0.0.1 8001", "TCP-LISTEN:8001,bind=127.0.0.1"},
		{"127.0.0.1 8001 -v", "TCP:127.0.0.1:8001"},
		{"-6 ::1 80", "TCP:'::1':80,pf=ip6"},
		{"-u -l 9000", "UDP-LISTEN:9000"},
		{"-lk 9000 --backlog 5", "TCP-LISTEN:9000,fork,backlog=5"},
		{"-U /tmp/s", "UNIX-CONNECT:/tmp/s"},
		{"-lU @abs", "UNIX-LISTEN:@abs"},
		{"-uU /tmp/g", "UNIX-SENDTO:/tmp/g"},
		{"-s 127.0.0.2 -p 4000 127.0.0.1 80", "TCP:127.0.0.1:80,bind='127.0.0.2:4000'"},
		{"example.org", "TCP:example.org:31337"},
	}
	for _, tt := range tests {
		o, err := parseNcat(strings.Fields(tt.argv))
		if err != nil {
			t.Errorf("%s: %v", tt.argv, err)
			continue
		}
		p, err := buildSpec(o)
		if err != nil {
			t.Errorf("%s: %v", tt.argv, err)
			continue
		}
		if got := p.spec.String(); got != tt.want {
			t.Errorf("%s: spec %s, want %s", tt.argv, got, tt.want)
		}
	}
	o, _ := parseNcat(strings.Fields("-lvnp 8001"))
	if !o.listen || o.verbose != 1 || !o.noDNS || o.sourcePort != "8001" {
		t.Errorf("-lvnp 8001 parsed as %+v", o)
	}
}
