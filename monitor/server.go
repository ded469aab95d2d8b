package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Start serves m's /metrics, /api/sessions and /api/events on addr until ctx ends, and returns the
// address it listens on. It refuses an address that is not loopback:
// the metrics name every listener and count every session, and nothing
// here yet controls who may read them.
func Start(ctx context.Context, addr string, m *Monitor) (net.Addr, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", addr, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, fmt.Errorf("monitor %s: cannot resolve %q", addr, host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("monitor %s: %s is not a loopback address, and the monitor serves loopback only", addr, ip)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	mux.Handle("GET /api/sessions", &m.table)
	mux.Handle("GET /api/events", &m.stream)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second} // no write timeout: /api/events streams
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr(), nil
}
