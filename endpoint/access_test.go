package endpoint

import (
	"context"
	"net/netip"
	"strings"
	"testing"
)

func TestAccess(t *testing.T) {
	tests := []struct {
		allow, deny []string
		addr        string
		want        bool
	}{
		{nil, nil, "10.0.0.1", true},
		{[]string{"10.0.0.1"}, nil, "10.0.0.1", true},
		{[]string{"10.0.0.1"}, nil, "10.0.0.2", false},
		{[]string{"192.168.1.1-50"}, nil, "192.168.1.50", true},
		{[]string{"192.168.1.1-50"}, nil, "192.168.1.51", false},
		{[]string{"10.*.0.-9"}, nil, "10.200.0.9", true},
		{[]string{"10.*.0.-9"}, nil, "10.200.0.10", false},
		{[]string{"10.0.0.0/8,::1"}, nil, "::1", true},
		{[]string{"10.0.0.0/8"}, nil, "::ffff:10.1.2.3", true},
		{nil, []string{"10.0.0.0/8"}, "10.1.2.3", false},
		{[]string{"0.0.0.0/0"}, []string{"10.0.0.5"}, "10.0.0.5", false},
		{[]string{"localhost"}, nil, "127.0.0.1", true},
	}
	for _, tt := range tests {
		a, err := ParseAccess(context.Background(), tt.allow, tt.deny)
		if err != nil {
			t.Fatalf("%v %v: %v", tt.allow, tt.deny, err)
		}
		if got := a.Permits(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("allow %v deny %v: %s permitted %v, want %v", tt.allow, tt.deny, tt.addr, got, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.300", "10.0.0.9-1", "no.such.host.invalid"} {
		if _, err := ParseAccess(context.Background(), []string{bad}, nil); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

// FuzzAccessEntry: any entry parses or is refused; none panics. Names
// are not looked up (entries with letters are skipped).
func FuzzAccessEntry(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "192.168.1.1-50", "*.*.*.*", "::1", "1-2.3-.-4.*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, e string) {
		_, aerr := netip.ParseAddr(strings.Trim(e, "[]"))
		_, perr := netip.ParsePrefix(e)
		if aerr != nil && perr != nil && strings.ContainsAny(strings.ToLower(e), "abcdefghijklmnopqrstuvwxyz") {
			return // it could be a host name, and a lookup would leave loopback
		}
		a, err := ParseAccess(context.Background(), []string{e}, nil)
		if err == nil {
			a.Permits(netip.MustParseAddr("10.0.0.1"))
			a.Permits(netip.MustParseAddr("::1"))
		}
	})
}
