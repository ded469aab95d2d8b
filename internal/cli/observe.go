package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/sockit/sockit/address"

	"github.com/sockit/sockit/capture"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/monitor"
	"github.com/sockit/sockit/serve"
)

// watchFlags are the observers' options, spelled the same under sockit
// and sockit relay: --json, --capture, --keylog and --monitor's.
type watchFlags struct {
	json, capture, keylog string // "-" for --json alone (stderr), --capture - (stdout)
	monitor, monitorToken string
	monitorAllow          []string
	monitorControl        bool
}

// flagSet is the one definition of the watch options: ncat's flag set
// adds it, the relay's parser reads long options through it, and both
// helps print it.
func (w *watchFlags) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("watch", pflag.ContinueOnError)
	fs.StringVar(&w.json, "json", "", "write what happens as NDJSON events (docs/events.md) to stderr, or to FILE with --json=FILE")
	fs.Lookup("json").NoOptDefVal = "-"
	fs.StringVar(&w.monitor, "monitor", "", "serve metrics and live sessions at http://ADDR/ (/metrics, /api/sessions, /api/events); loopback only unless --monitor-allow or --monitor-token")
	fs.StringSliceVar(&w.monitorAllow, "monitor-allow", nil, "let only these hosts read the monitor (--allow's syntax)")
	fs.BoolVar(&w.monitorControl, "monitor-allow-control", false, "let the monitor's readers close sessions (POST /api/sessions/UID/close, the page's buttons)")
	fs.StringVar(&w.monitorToken, "monitor-token", "", `ask every monitor request for "Authorization: Bearer TOKEN"`)
	fs.StringVar(&w.keylog, "keylog", "", "append the TLS session keys to FILE (NSS key log, mode 0600), as SSLKEYLOGFILE does")
	fs.StringVar(&w.capture, "capture", "", "write every session as pcapng to FILE (mode 0600), or to stdout with -, for Wireshark")
	return fs
}

// startWatching opens what the watch options ask for: the events file,
// the monitor, the capture and the key log, and a context under which
// TLS connections and retries are watched. The closer ends them all.
func (r *runner) startWatching(ctx context.Context, w watchFlags) (context.Context, io.Closer, error) {
	var closers []io.Closer
	closeAll := closerFunc(func() error {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i].Close()
		}
		return nil
	})
	evs, err := r.openEvents(w.json)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, evs)
	if err := r.startMonitor(ctx, w.monitor, w.monitorAllow, w.monitorToken, w.monitorControl); err != nil {
		closeAll()
		return nil, nil, err
	}
	pcap, err := r.openCapture(w.capture)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, pcap)
	ctx, keys, err := r.watchTLS(ctx, w.keylog)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, keys)
	if r.watch != nil && r.watch.Events != nil {
		ctx = endpoint.WithRetryFunc(ctx, func(sp address.Spec, attempt int, wait time.Duration, err error) {
			r.watch.Emit(events.Event{Kind: events.Retry, Remote: sp.String(), Attempt: attempt, Reason: err.Error()})
		})
	}
	return ctx, closeAll, nil
}

// watching returns the runner's Watch, made on first use.
func (r *runner) watching() *serve.Watch {
	if r.watch == nil {
		r.watch = &serve.Watch{Warn: func(msg string) { r.errorf("WARNING: %s.", msg) }}
	}
	return r.watch
}

// openEvents starts --json: NDJSON events on stderr ("-") or in a file.
// The closer ends the file.
func (r *runner) openEvents(dest string) (io.Closer, error) {
	switch dest {
	case "":
		return io.NopCloser(nil), nil
	case "-":
		r.observe(events.NewEncoder(r.stderr))
		return io.NopCloser(nil), nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("--json: %w", err)
	}
	r.observe(events.NewEncoder(f))
	return f, nil
}

// observe adds o to the observers of every session's events.
func (r *runner) observe(o events.Observer) {
	w := r.watching()
	if w.Events == nil {
		w.Events = o
		return
	}
	w.Events = events.Fanout{w.Events, o}
}

// startMonitor is --monitor ADDR: /metrics from the sessions' events.
func (r *runner) startMonitor(ctx context.Context, addr string, allow []string, token string, control bool) error {
	if addr == "" {
		if len(allow) > 0 || token != "" || control {
			return usagef("--monitor-allow, --monitor-token and --monitor-allow-control go with --monitor")
		}
		return nil
	}
	opt := monitor.Options{Token: token, Control: control}
	if len(allow) > 0 {
		acc, err := endpoint.ParseAccess(ctx, allow, nil)
		if err != nil {
			return usagef("--monitor-allow: %v", err)
		}
		opt.Allow = acc.Permits
	}
	m := monitor.New(Version)
	at, err := monitor.Start(ctx, addr, m, opt)
	if err != nil {
		return &usageError{msg: "--" + err.Error(), verbatim: true} // exit 2, as a listener that cannot bind
	}
	r.observe(m)
	r.monitor = m
	r.logf("Metrics on http://%s/metrics", at)
	return nil
}

// openCapture starts --capture: a pcapng file, or the stream on stdout
// ("-"), when the session's data goes nowhere (or to -o's file). The
// file is created mode 0600: it holds every byte of every session.
func (r *runner) openCapture(dest string) (io.Closer, error) {
	if dest == "" {
		return io.NopCloser(nil), nil
	}
	var out io.Writer
	var file *os.File
	if dest == "-" {
		out, r.stdout = r.stdout, io.Discard
	} else {
		f, err := os.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--capture: %w", err)
		}
		out, file = f, f
	}
	cw, err := capture.NewWriter(out, "sockit "+Version)
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, fmt.Errorf("--capture: %w", err)
	}
	r.watching().Capture = cw
	return closerFunc(func() error {
		err := cw.Close()
		if n := cw.Dropped(); n > 0 {
			r.errorf("--capture: %d frames dropped: the capture could not keep up", n)
		}
		if file != nil {
			if cerr := file.Close(); err == nil {
				err = cerr
			}
		}
		return err
	}), nil
}

// watchTLS returns ctx under which TLS connections are watched for the
// capture and the key log (keylog, or $SSLKEYLOGFILE when keylog is
// empty), and what closes the key log; ctx as it is when neither is on.
func (r *runner) watchTLS(ctx context.Context, keylog string) (context.Context, io.Closer, error) {
	if keylog == "" && (r.name == "sockit" || r.name == "sockit relay") {
		keylog = os.Getenv("SSLKEYLOGFILE") // not under a peer's name: theirs ignore it
	}
	var file *os.File
	var keys io.Writer
	if keylog != "" {
		f, err := os.OpenFile(keylog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("key log: %w", err)
		}
		file, keys = f, f
		r.errorf("WARNING: %s gets the TLS session keys: whoever reads it can decrypt these sessions.", keylog)
	}
	obs := r.watch.TLSObserver(keys)
	if obs == nil {
		return ctx, io.NopCloser(nil), nil
	}
	return endpoint.WithTLSObserver(ctx, obs), closerFunc(func() error {
		if file != nil {
			return file.Close()
		}
		return nil
	}), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
