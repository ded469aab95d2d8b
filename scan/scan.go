// Package scan holds sockit's port scanner: port lists as OpenBSD nc takes
// them ("20-25,80,443"), a bounded concurrent TCP connect scan that never
// reports a self-connect as open, and a UDP probe that reports only what it
// can know.
package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ParsePorts reads a list of ports and ranges ("20-25,80,8000-8100"),
// in order, without duplicates.
func ParsePorts(s string) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("port list %q: empty entry", s)
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := port(lo)
		if err != nil {
			return nil, fmt.Errorf("port list %q: %v", s, err)
		}
		b := a
		if isRange {
			if b, err = port(hi); err != nil {
				return nil, fmt.Errorf("port list %q: %v", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("port list %q: range %s runs backwards", s, part)
			}
		}
		for p := a; p <= b; p++ {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func port(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return n, nil
}

// State is what a scan learned of a port.
type State int

const (
	// Closed: the host refused (TCP RST, or ICMP port unreachable for UDP).
	Closed State = iota
	// Open: a TCP connection completed (to something other than itself).
	Open
	// Filtered: no answer within the timeout (TCP).
	Filtered
	// OpenFiltered: a UDP probe drew no refusal; open, or silently dropped.
	OpenFiltered
)

func (s State) String() string {
	return [...]string{"closed", "open", "filtered", "open|filtered"}[s]
}

// Result is one port's outcome.
type Result struct {
	Port  int
	State State
	Err   error // the error behind Closed or Filtered, if any
}

// Options tunes a scan.
type Options struct {
	UDP bool
	// Timeout bounds each probe; default 1 s.
	Timeout time.Duration
	// Concurrency bounds UDP probes in flight; default 256. TCP connects
	// run from a few threads (twice GOMAXPROCS).
	Concurrency int
	// Probe is what a UDP probe sends, one datagram per element: ncat
	// sends one NUL byte, nc.openbsd -v five "X"s, nc.openbsd without
	// -v none (the port counts as open|filtered). Nil: one empty datagram.
	Probe [][]byte
}

// Scan probes every port of host and returns the results in the order of
// ports.
func Scan(ctx context.Context, host string, ports []int, opt Options) ([]Result, error) {
	if opt.Timeout <= 0 {
		opt.Timeout = time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 256
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", strings.Trim(host, "[]"))
	if err != nil {
		return nil, err
	}
	ip := ips[0].Unmap()
	if !opt.UDP {
		// Blocking connects cannot be cancelled mid-call; each is bounded
		// by the timeout, and the scan checks ctx when it is done.
		results := scanTCP(ip, ports, opt.Timeout, workers())
		return results, ctx.Err()
	}
	results := make([]Result, len(ports))
	sem := make(chan struct{}, opt.Concurrency)
	var wg sync.WaitGroup
	for i, p := range ports {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = probeUDP(ctx, netip.AddrPortFrom(ip, uint16(p)), opt.Timeout, opt.Probe)
		})
	}
	wg.Wait()
	return results, ctx.Err()
}

// SelfConnect reports whether c is connected to itself: the same
// address and port at both ends.
func SelfConnect(c net.Conn) bool {
	l, lok := c.LocalAddr().(*net.TCPAddr)
	r, rok := c.RemoteAddr().(*net.TCPAddr)
	return lok && rok && l.Port == r.Port && l.IP.Equal(r.IP)
}

// probeUDP sends the probe's datagrams and waits for an ICMP refusal, which a
// connected UDP socket reports as ECONNREFUSED on the next read.
func probeUDP(ctx context.Context, ap netip.AddrPort, timeout time.Duration, probe [][]byte) Result {
	r := Result{Port: int(ap.Port()), State: OpenFiltered}
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", ap.String())
	if err != nil {
		r.State, r.Err = Closed, err
		return r
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if probe == nil {
		probe = [][]byte{nil}
	}
	if len(probe) == 0 {
		return r // nothing sent, so nothing can refuse: nc -uz without -v
	}
	for _, p := range probe {
		if _, err := c.Write(p); err != nil {
			r.State, r.Err = Closed, err
			return r
		}
	}
	buf := make([]byte, 1)
	_, err = c.Read(buf)
	switch {
	case err == nil || errors.Is(err, syscall.EMSGSIZE):
		r.State = Open // something answered
	case errors.Is(err, syscall.ECONNREFUSED):
		r.State, r.Err = Closed, err
	}
	return r
}
