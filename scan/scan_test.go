package scan

import (
	"context"
	"net"
	"reflect"
	"testing"
	"time"
)

func TestParsePorts(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"80", []int{80}},
		{"20-23,80", []int{20, 21, 22, 23, 80}},
		{"443,80,443", []int{443, 80}},
		{"65535", []int{65535}},
	}
	for _, tt := range tests {
		got, err := ParsePorts(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePorts(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0", "65536", "25-20", "a", "1,,2", "-5", "http"} {
		if got, err := ParsePorts(bad); err == nil {
			t.Errorf("ParsePorts(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"80", "20-25,80,443", "1-65535", "5-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := ParsePorts(s)
		if err != nil {
			return
		}
		seen := map[int]bool{}
		for _, p := range ports {
			if p < 1 || p > 65535 || seen[p] {
				t.Fatalf("ParsePorts(%q) gave %d (seen %v)", s, p, seen[p])
			}
			seen[p] = true
		}
	})
}

func TestScan(t *testing.T) {
	var open []int
	for range 3 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		open = append(open, ln.Addr().(*net.TCPAddr).Port)
	}
	closedLn, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := closedLn.Addr().(*net.TCPAddr).Port
	closedLn.Close()
	ports := append([]int{closed}, open...)
	res, err := Scan(context.Background(), "127.0.0.1", ports, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]State{closed: Closed}
	for _, p := range open {
		want[p] = Open
	}
	for _, r := range res {
		if r.State != want[r.Port] {
			t.Errorf("port %d: %v (%v), want %v", r.Port, r.State, r.Err, want[r.Port])
		}
	}
	// UDP: a bound socket draws no refusal; a free port does.
	pc, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	defer pc.Close()
	udpOpen := pc.LocalAddr().(*net.UDPAddr).Port
	free, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	udpClosed := free.LocalAddr().(*net.UDPAddr).Port
	free.Close()
	res, err = Scan(context.Background(), "127.0.0.1", []int{udpOpen, udpClosed}, Options{UDP: true, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		want := OpenFiltered
		if r.Port == udpClosed {
			want = Closed
		}
		if r.State != want {
			t.Errorf("udp %d: %v, want %v", r.Port, r.State, want)
		}
	}
}
