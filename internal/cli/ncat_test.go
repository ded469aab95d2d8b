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

// TestRelayWatchOptions: sockit relay reads the watch options through
// the same flag set as sockit, values glued or apart, and stops at the
// first address.
func TestRelayWatchOptions(t *testing.T) {
	o, err := parseRelay([]string{"--json", "--monitor", "127.0.0.1:9090", "--monitor-allow=127.0.0.1,::1",
		"--monitor-allow", "127.0.0.2", "--monitor-allow-control", "--capture=c.pcapng", "--keylog", "k.log", "-d", "STDIO", "--json=x"})
	if err != nil {
		t.Fatal(err)
	}
	w := o.watch
	if w.json != "-" || w.monitor != "127.0.0.1:9090" || strings.Join(w.monitorAllow, " ") != "127.0.0.1 ::1 127.0.0.2" ||
		!w.monitorControl || w.capture != "c.pcapng" || w.keylog != "k.log" || o.debug != 1 || strings.Join(o.args, " ") != "STDIO --json=x" {
		t.Errorf("parsed %+v, args %q", w, o.args)
	}
	if _, err := parseRelay([]string{"--capture"}); err == nil || !strings.Contains(err.Error(), "--capture needs a value") {
		t.Errorf("--capture without a value: %v", err)
	}
	if _, err := parseRelay([]string{"--monitor-allow-control=maybe", "A", "B"}); err == nil {
		t.Error("--monitor-allow-control=maybe accepted")
	}
}
