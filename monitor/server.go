package monitor

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// page is the live view: one file, no assets from anywhere else.
//
//go:embed page.html
var page []byte

// Options say who may read the monitor.
type Options struct {
	// Allow, if set, lets only the peers it permits in (403 for the
	// others), and lets the monitor listen beyond loopback.
	Allow func(peer netip.Addr) bool
	// Token, if set, is asked of every request as "Authorization:
	// Bearer TOKEN" (401 without it), and lets the monitor listen beyond
	// loopback.
	Token string
	// Control lets a reader end a session: POST
	// /api/sessions/{uid}/close, and the page's close buttons.
	Control bool
}

// Start serves the live page (/), m's /metrics, /api/sessions and
// /api/events on addr
// until ctx ends, and returns the address it listens on. Without Allow
// or Token it refuses an address that is not loopback: the monitor
// names every listener and every peer.
func Start(ctx context.Context, addr string, m *Monitor, opt Options) (net.Addr, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", addr, err)
	}
	if opt.Allow == nil && opt.Token == "" {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("monitor %s: cannot resolve %q", addr, host)
		}
		for _, ip := range ips {
			if !ip.Unmap().IsLoopback() {
				return nil, fmt.Errorf("monitor %s: %s is not a loopback address; give --monitor-allow or --monitor-token to serve it", addr, ip.Unmap())
			}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("monitor %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	m.table.control = opt.Control
	mux.Handle("GET /api/sessions", &m.table)
	mux.HandleFunc("POST /api/sessions/{uid}/close", m.table.closeSession)
	mux.Handle("GET /api/events", &m.stream)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		w.Write(page) //nolint:errcheck // the browser went away
	})
	srv := &http.Server{Handler: guard(mux, opt), ReadHeaderTimeout: 5 * time.Second} // no write timeout: /api/events streams
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return
		}
	}()
	context.AfterFunc(ctx, func() { srv.Close() })
	return ln.Addr(), nil
}

// guard applies Options to every request.
func guard(h http.Handler, opt Options) http.Handler {
	want := []byte("Bearer " + opt.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if opt.Allow != nil {
			ap, err := netip.ParseAddrPort(r.RemoteAddr)
			if err != nil || !opt.Allow(ap.Addr().Unmap()) {
				http.Error(w, "not allowed", http.StatusForbidden)
				return
			}
		}
		// The page holds no data: it asks for it with the token from
		// its own URL's fragment, which never reaches the server.
		if opt.Token != "" && r.URL.Path != "/" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sockit monitor"`)
			http.Error(w, "a token is needed", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
