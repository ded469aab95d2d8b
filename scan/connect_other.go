//go:build !linux

package scan

import (
	"context"
	"net/netip"
	"sync"
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
