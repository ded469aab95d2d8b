//go:build !linux

package scan

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// scanTCP probes with Go's dialer where no faster path exists.
func scanTCP(ip netip.Addr, ports []int, timeout time.Duration, workers int) []Result {
	results := make([]Result, len(ports))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i, p := range ports {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = probeTCP(context.Background(), netip.AddrPortFrom(ip, uint16(p)), timeout)
		})
	}
	wg.Wait()
	return results
}

func workers() int { return 256 }

func probeTCP(ctx context.Context, ap netip.AddrPort, timeout time.Duration) Result {
	r := Result{Port: int(ap.Port())}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", ap.String())
	if err != nil {
		r.Err = err
		if errors.Is(err, syscall.ECONNREFUSED) {
			r.State = Closed
		} else {
			r.State = Filtered
		}
		return r
	}
	defer c.Close()
	if SelfConnect(c) {
		// The kernel picked the scanned port as the source port and the
		// SYN met itself (TCP simultaneous open): nothing listens there.
		r.State, r.Err = Closed, errors.New("self-connect")
		return r
	}
	r.State = Open
	return r
}
