package cli

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/scan"
)

// defaultScanWait bounds each probe when -w is not given.
const defaultScanWait = 2 * time.Second

// errNoneOpen ends a scan that found nothing open: exit 1, as nc -z.
var errNoneOpen = errors.New("no port open")

// scan is -z: `sockit -z host 20-25,80`. It prints open ports at -v
// ("Connected to host:port."), closed ones at -vv, and exits 0 when any
// port is open.
func (r *runner) scan(ctx context.Context, o *ncatOptions) error {
	if len(o.args) < 2 {
		return usagef("-z wants a host and ports, such as: -z 127.0.0.1 20-25,80 443")
	}
	host, list := o.args[0], strings.Join(o.args[1:], ",") // nc takes ports as separate arguments
	ports, err := scan.ParsePorts(list)
	if err != nil {
		return usagef("%v", err)
	}
	if o.noDNS && net.ParseIP(host) == nil {
		return usagef("could not resolve hostname %q: Name or service not known", host)
	}
	wait := o.wait
	if wait == 0 {
		wait = defaultScanWait
	}
	start := time.Now()
	results, err := scan.Scan(ctx, host, ports, scan.Options{UDP: o.udp, Timeout: wait, Probe: o.probe()})
	if err != nil {
		return dialError(err)
	}
	open := 0
	proto := "tcp"
	if o.udp {
		proto = "udp"
	}
	for _, res := range results {
		r.watch.Emit(events.Event{Kind: events.Port, Proto: proto, Remote: host, PortNumber: res.Port, State: res.State.String()})
	}
	if sv, ok := r.voice.(scanVoice); ok {
		if sv.descending() {
			slices.Reverse(results)
		}
		for _, res := range results {
			if res.State != scan.Closed {
				open++
			}
			sv.scanned(r, o, host, res)
		}
		sv.scanDone(r, o)
		if open == 0 {
			return errNoneOpen
		}
		return nil
	}
	for _, res := range results {
		addr := net.JoinHostPort(host, strconv.Itoa(res.Port))
		switch res.State {
		case scan.Open:
			open++
			r.logf("Connected to %s.", addr)
		case scan.OpenFiltered:
			open++
			r.logf("%s/%s open|filtered (no refusal within %v).", addr, proto, wait)
		default:
			if r.verbose >= 2 {
				r.logf("%s/%s %s: %v.", addr, proto, res.State, res.Err)
			}
		}
	}
	r.logf("%d ports scanned, %d open, in %.2f seconds.", len(results), open, time.Since(start).Seconds())
	if open == 0 {
		return errNoneOpen
	}
	return nil
}

// probe is what a UDP scan sends: one NUL byte, as ncat, unless the
// personality says otherwise.
func (o *ncatOptions) probe() [][]byte {
	if o.udpProbe != nil {
		return o.udpProbe
	}
	return [][]byte{{0}}
}

// scanVoice is a personality's wording for -z, one call per port.
type scanVoice interface {
	scanned(r *runner, o *ncatOptions, host string, res scan.Result)
	scanDone(r *runner, o *ncatOptions)
	descending() bool // report from the highest port down
}
