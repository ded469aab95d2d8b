package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/loadgen"
	"github.com/sockit/sockit/report"
	"github.com/sockit/sockit/stream"
)

// benchFlags are `sockit bench ADDRESS`'s options.
type benchFlags struct {
	mode, dir                string
	duration, omit, interval benchSeconds
	count                    string
	parallel, concurrency    int
	size, reply              string
	reverse, bidir           bool
	rate                     float64
	delay                    time.Duration
	delayEvery               int
	drop                     string
	json, jsonStream         bool
	timeSet                  bool // -t was given, so -n does not replace it
}

func (b *benchFlags) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	fs.StringVarP(&b.mode, "mode", "m", "", "throughput, rr (request/response latency), connect (connection rate) or udp; default throughput, udp for a UDP address")
	b.duration = benchSeconds(10 * time.Second)
	fs.VarP(&b.duration, "time", "t", "run this long after the warm-up (a bare number is seconds)")
	fs.StringVarP(&b.count, "count", "n", "", "stop after this many bytes (throughput, each way with --bidir; K, M, G suffixes) or round trips, connections or datagrams")
	fs.VarP(&b.omit, "omit", "O", "warm up this long first: reported, marked omitted, left out of the totals")
	b.interval = benchSeconds(time.Second)
	fs.VarP(&b.interval, "interval", "i", "report every so often")
	fs.IntVarP(&b.parallel, "parallel", "P", 1, "for throughput: parallel streams")
	fs.IntVarP(&b.concurrency, "concurrency", "c", 1, "for rr, connect and udp: connections (or flows) working at once")
	fs.StringVar(&b.dir, "dir", "", "for throughput: up (the client sends, the default), down or both")
	fs.BoolVarP(&b.reverse, "reverse", "R", false, "for throughput: the server sends (--dir down, as iperf3 -R)")
	fs.BoolVar(&b.bidir, "bidir", false, "for throughput: both ways at once (--dir both, as iperf3 --bidir)")
	fs.StringVarP(&b.size, "length", "l", "", "write size (throughput, default 256K; iperf3 writes 128K), request size (rr, default 64) or datagram size (udp, default 64)")
	fs.StringVar(&b.reply, "reply", "", "for rr: reply size, or MIN-MAX for sizes drawn at random (default: the request's)")
	fs.Float64Var(&b.rate, "rate", 0, "for rr: requests per second over all connections, timed from each intended send (open loop); for udp: datagrams per second (default 1000)")
	fs.DurationVar(&b.delay, "delay", 0, "for rr: ask the server to hold replies this long")
	fs.IntVar(&b.delayEvery, "delay-every", 0, "for rr: hold only every Nth reply (with --delay)")
	fs.StringVar(&b.drop, "drop", "", "for udp: ask the server to drop this share of datagrams (1% or 0.01)")
	fs.BoolVar(&b.json, "json", false, "print the result as JSON (iperf3's shape, with HDR histograms) and nothing else on stdout")
	fs.BoolVar(&b.jsonStream, "json-stream", false, "print one JSON object per interval and one for the end, as lines")
	return fs
}

// benchSeconds is a duration where a bare number means seconds, as in
// iperf3's -t.
type benchSeconds time.Duration

func (d *benchSeconds) String() string { return time.Duration(*d).String() }
func (d *benchSeconds) Type() string   { return "duration" }
func (d *benchSeconds) Set(s string) error {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1e9 { // NaN and Inf fail both

		*d = benchSeconds(f * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration (10, 10s, 500ms)", s)
	}
	*d = benchSeconds(v)
	return nil
}

// parseCount reads 100, 64K, 1M or 2G (binary multiples, as iperf3's).
func parseCount(s string) (int64, error) {
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a count (100, 64K, 1M)", s)
	}
	return n * mult, nil
}

// parseShare reads 1% or 0.01.
func parseShare(s string) (float64, error) {
	pct := strings.HasSuffix(s, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err == nil && pct {
		f /= 100
	}
	if err != nil || !(f >= 0 && f < 1) { // NaN fails too
		return 0, fmt.Errorf("%q is not a share below 100%% (1%%, 0.01)", s)
	}
	return f, nil
}

// bench is `sockit bench ...`: serve, report, compare, merge, or a run.
func (r *runner) bench(ctx context.Context, argv []string) error {
	if len(argv) > 0 {
		switch argv[0] {
		case "serve":
			return r.benchServe(ctx, argv[1:])
		case "report":
			return r.benchReport(argv[1:])
		case "compare":
			return r.benchCompare(argv[1:])
		case "merge":
			return r.benchMerge(argv[1:])
		}
	}
	var b benchFlags
	fs := b.flagSet()
	fs.SetOutput(io.Discard)
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printBenchHelp(r.stdout)
			return errHelp
		}
		return usagef("%v", err)
	}
	b.timeSet = fs.Changed("time")
	if fs.NArg() != 1 {
		return usagef("one address to measure, as in: sockit bench TCP:127.0.0.1:5201 (sockit bench serve 5201 answers it)")
	}
	spec, err := benchAddress(fs.Arg(0), false)
	if err != nil {
		return err
	}
	cfg, err := b.config(spec)
	if err != nil {
		return err
	}
	cfg.Dial = func(ctx context.Context) (stream.Conn, error) { return endpoint.Dial(ctx, spec) }
	return r.benchRun(ctx, cfg, b)
}

// benchAddress reads an address as socat writes it, or the shorthand
// PORT (serve: TCP-LISTEN:PORT) and HOST:PORT (TCP:HOST:PORT).
func benchAddress(s string, listen bool) (address.Spec, error) {
	if listen && isPort(s) {
		s = "TCP-LISTEN:" + s
	} else if host, port, err := net.SplitHostPort(s); listen && err == nil && isPort(port) && host != "" {
		if _, perr := address.Parse(s); perr != nil {
			s = "TCP-LISTEN:" + port + ",bind=" + host
		}
	}
	spec, err := address.Parse(s)
	if err != nil && !listen {
		if host, port, serr := net.SplitHostPort(s); serr == nil && isPort(port) {
			if spec, perr := address.Parse("TCP:" + net.JoinHostPort(host, port)); perr == nil {
				return spec, nil
			}
		}
	}
	if err != nil {
		return address.Spec{}, usagef("%v", err)
	}
	return spec, nil
}

// config turns the flags into a loadgen.Config for spec.
func (b *benchFlags) config(spec address.Spec) (loadgen.Config, error) {
	cfg := loadgen.Config{
		Mode: b.mode, Address: spec.String(), Version: Version,
		Duration: time.Duration(b.duration), Omit: time.Duration(b.omit), Interval: time.Duration(b.interval),
		Rate: b.rate, Delay: b.delay, DelayEvery: b.delayEvery, Direction: b.dir,
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = loadgen.Throughput
		if datagramKind(spec.Kind) {
			cfg.Mode = loadgen.UDPMode
		}
	case loadgen.Throughput, loadgen.RR, loadgen.Connect, loadgen.UDPMode:
	default:
		return cfg, usagef("-m %s: the modes are throughput, rr, connect and udp", cfg.Mode)
	}
	switch cfg.Direction {
	case "", loadgen.Up, loadgen.Down, loadgen.Both:
	default:
		return cfg, usagef("--dir %s: up, down or both", cfg.Direction)
	}
	switch {
	case b.reverse && b.bidir:
		return cfg, usagef("-R and --bidir: pick one direction")
	case b.reverse:
		cfg.Direction = loadgen.Down
	case b.bidir:
		cfg.Direction = loadgen.Both
	}
	if !(b.rate >= 0 && b.rate <= 1e9) {
		return cfg, usagef("--rate %v: a rate per second from 0 (none) to 1e9", b.rate)
	}
	cfg.Streams = b.concurrency
	if cfg.Mode == loadgen.Throughput {
		cfg.Streams = b.parallel
	}
	if cfg.Streams < 1 || cfg.Streams > 10000 {
		return cfg, usagef("-P and -c take 1 to 10000")
	}
	var err error
	if b.count != "" {
		if cfg.Count, err = parseCount(b.count); err != nil {
			return cfg, usagef("-n: %v", err)
		}
		if !b.timeSet {
			cfg.Duration = 0 // -n alone bounds the run, as in iperf3
		}
	}
	if b.size != "" {
		n, err := parseCount(b.size)
		if err != nil || n == 0 {
			return cfg, usagef("-l: %q is not a size (64, 128K)", b.size)
		}
		cfg.Size = int(min(n, 1<<30))
	}
	if b.reply != "" {
		lo, hi, ranged := strings.Cut(b.reply, "-")
		n, err := parseCount(lo)
		if err != nil {
			return cfg, usagef("--reply: %v", err)
		}
		cfg.Reply = int(min(n, 1<<30))
		if ranged {
			m, err := parseCount(hi)
			if err != nil || m < n {
				return cfg, usagef("--reply %s: want MIN-MAX", b.reply)
			}
			cfg.ReplyMax = int(min(m, 1<<30))
		}
	}
	if b.drop != "" {
		if cfg.Drop, err = parseShare(b.drop); err != nil {
			return cfg, usagef("--drop: %v", err)
		}
	}
	return cfg, nil
}

// benchRun runs cfg and prints as the flags ask: interval lines and a
// summary, a progress display on a terminal, or JSON.
func (r *runner) benchRun(ctx context.Context, cfg loadgen.Config, b benchFlags) error {
	var bar *benchProgress
	f, isFile := r.stderr.(*os.File)
	live := isFile && isTerminal(f) && !b.jsonStream
	quiet := b.json || b.jsonStream
	if live {
		bar = &benchProgress{out: f}
	}
	enc := json.NewEncoder(r.stdout)
	onInterval := func(iv loadgen.Interval) {
		switch {
		case b.jsonStream:
			enc.Encode(map[string]any{"event": "interval", "data": iv}) //nolint:errcheck // stdout gone: the run ends anyway
		case bar != nil:
			bar.update(iv)
		case !quiet:
			report.Line(r.stdout, cfg.Mode, iv)
		}
	}
	cfg.OnStart = func(s loadgen.Start) {
		switch {
		case bar != nil:
			bar.start(s)
		case !quiet:
			report.Header(r.stdout, s)
		}
	}
	cfg.OnInterval = onInterval
	res, err := loadgen.Run(ctx, cfg)
	if bar != nil {
		bar.done()
	}
	if res == nil {
		return err
	}
	// Interrupted (^C), the run still reports what it measured, as
	// iperf3 does, and then exits 1.
	switch {
	case b.json:
		out, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(r.stdout, "%s\n", out)
	case b.jsonStream:
		enc.Encode(map[string]any{"event": "end", "data": res}) //nolint:errcheck // as above
	default:
		if bar != nil {
			report.Header(r.stdout, res.Start)
			for _, iv := range res.Intervals {
				report.Line(r.stdout, cfg.Mode, iv)
			}
		}
		report.Summary(r.stdout, res)
	}
	if err != nil {
		return err
	}
	if res.End.Ops == 0 && res.End.Bytes == 0 && res.End.FirstError != "" {
		return fmt.Errorf("nothing got through to %s: %s", cfg.Address, res.End.FirstError)
	}
	return nil
}

// benchProgress is the live display on a terminal: the elapsed time
// against the run's length, the last interval's rate and its p99.
type benchProgress struct {
	out  io.Writer
	p    *mpb.Progress
	bar  *mpb.Bar
	mode string
	last atomic.Value // string: the last interval's figures
}

func (b *benchProgress) start(s loadgen.Start) {
	b.mode = s.Test.Mode
	b.last.Store("")
	total := int64((s.Test.Omit + s.Test.Duration) * 10)
	b.p = mpb.New(mpb.WithOutput(b.out), mpb.WithRefreshRate(progressEvery), mpb.WithWidth(24))
	figures := decor.Any(func(decor.Statistics) string { return b.last.Load().(string) })
	if total > 0 {
		b.bar = b.p.AddBar(total, mpb.BarRemoveOnComplete(),
			mpb.PrependDecorators(decor.Name(s.Test.Mode+" "), decor.Elapsed(decor.ET_STYLE_GO)),
			mpb.AppendDecorators(figures))
	} else {
		b.bar = b.p.New(0, mpb.NopStyle(), mpb.BarRemoveOnComplete(),
			mpb.PrependDecorators(decor.Name(s.Test.Mode+" "), decor.Elapsed(decor.ET_STYLE_GO)),
			mpb.AppendDecorators(figures))
	}
	go func() { // the bar moves with the clock, not only at intervals
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if b.bar.Completed() || b.bar.Aborted() {
				return
			}
			if total > 0 && b.bar.Current() < total-1 {
				b.bar.Increment()
			}
		}
	}()
}

func (b *benchProgress) update(iv loadgen.Interval) {
	var s strings.Builder
	report.Line(&s, b.mode, iv)
	b.last.Store(strings.TrimSpace(s.String()))
}

func (b *benchProgress) done() {
	if b.bar == nil {
		return
	}
	b.bar.Abort(true)
	b.p.Wait()
}

// benchServe is `sockit bench serve [-v] ADDRESS`: the other end of every
// test, for as many clients at once as come, until a signal.
func (r *runner) benchServe(ctx context.Context, argv []string) error {
	fs := pflag.NewFlagSet("bench serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	verbose := fs.BoolP("verbose", "v", false, "log each test on stderr")
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			printBenchHelp(r.stdout)
			return errHelp
		}
		return usagef("serve: %v", err)
	}
	if fs.NArg() != 1 {
		return usagef("serve: one address to listen on, as in: sockit bench serve TCP-LISTEN:5201 (or just 5201)")
	}
	spec, err := benchAddress(fs.Arg(0), true)
	if err != nil {
		return err
	}
	datagram := datagramKind(spec.Kind)
	if datagram {
		if _, fork := spec.Opt("fork"); !fork {
			spec.Options = append(spec.Options, address.Option{Name: "fork"}) // a flow per client
		}
	}
	ln, err := endpoint.Listen(ctx, spec)
	if err != nil {
		return fmt.Errorf("listen %s: %w", spec, err)
	}
	r.errorf("serving %s on %s", spec, endpoint.Addr(ln.Addr()))
	s := &loadgen.Server{Datagram: datagram}
	if *verbose {
		s.Logger = slog.New(slog.NewTextHandler(r.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return s.Serve(ctx, ln)
}

// loadRuns reads results that `sockit bench --json` (or --json-stream)
// wrote, named after their files.
func loadRuns(paths []string) ([]report.Run, error) {
	var runs []report.Run
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		res, err := decodeResult(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
		runs = append(runs, report.Run{Name: name, Result: res})
	}
	return runs, nil
}

// decodeResult reads one --json document, or the end event of a
// --json-stream.
func decodeResult(b []byte) (*loadgen.Result, error) {
	var res loadgen.Result
	if err := json.Unmarshal(b, &res); err == nil && res.Start.Test.Mode != "" {
		return &res, nil
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var ev struct {
		Event string          `json:"event"`
		Data  *loadgen.Result `json:"data"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ev); err == nil && ev.Event == "end" && ev.Data != nil {
		return ev.Data, nil
	}
	return nil, errors.New("not a result of sockit bench --json")
}

// benchReport is `sockit bench report A.json [B.json ...] -o FILE`: the
// charts as .html (one self-contained page), .svg or .png.
func (r *runner) benchReport(argv []string) error {
	fs := pflag.NewFlagSet("bench report", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	out := fs.StringP("output", "o", "", "the file to write: .html, .svg or .png")
	if err := fs.Parse(argv); err != nil {
		return usagef("report: %v", err)
	}
	if fs.NArg() == 0 || *out == "" {
		return usagef("report: results and a file to write, as in: sockit bench report a.json b.json -o report.html")
	}
	runs, err := loadRuns(fs.Args())
	if err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	var b []byte
	switch ext := strings.ToLower(filepath.Ext(*out)); ext {
	case ".html", ".htm":
		b, err = report.HTML(runs)
	case ".svg":
		b, err = report.Chart(runs, report.SVG)
	case ".png":
		b, err = report.Chart(runs, report.PNG)
	default:
		return usagef("report: -o %s: write .html, .svg or .png", *out)
	}
	if err != nil {
		return fmt.Errorf("bench report: %w", err)
	}
	return os.WriteFile(*out, b, 0o644)
}

// benchCompare is `sockit bench compare A.json B.json [...]`: the ratio
// table in the terminal.
func (r *runner) benchCompare(argv []string) error {
	if len(argv) < 2 {
		return usagef("compare: two results or more, as in: sockit bench compare before.json after.json")
	}
	runs, err := loadRuns(argv)
	if err != nil {
		return fmt.Errorf("bench compare: %w", err)
	}
	if err := report.Compare(r.stdout, runs); err != nil {
		return usagef("compare: %v", err)
	}
	return nil
}

// benchMerge is `sockit bench merge A.json B.json [...]`: runs from
// several clients as one result, histograms merged, on stdout.
func (r *runner) benchMerge(argv []string) error {
	if len(argv) < 1 {
		return usagef("merge: the results to merge, as in: sockit bench merge a.json b.json > all.json")
	}
	runs, err := loadRuns(argv)
	if err != nil {
		return fmt.Errorf("bench merge: %w", err)
	}
	var results []*loadgen.Result
	for _, run := range runs {
		results = append(results, run.Result)
	}
	m, err := loadgen.Merge(results...)
	if err != nil {
		return usagef("merge: %v", err)
	}
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(r.stdout, "%s\n", out)
	return nil
}

// benchSynopsis opens `sockit bench --help` and its man page.
var benchSynopsis = [][2]string{
	{"sockit bench serve ADDRESS", "answer every test on ADDRESS (TCP-LISTEN:5201, OPENSSL-LISTEN:5201, UNIX-LISTEN:PATH, UDP-LISTEN:5201, or a port), as many clients at once as come"},
	{"sockit bench [OPTIONS] ADDRESS", "measure the path to ADDRESS (TCP:HOST:PORT or HOST:PORT, OPENSSL:..., UNIX:PATH, UDP:HOST:PORT, via= proxy chains)"},
	{"sockit bench report A.json [B.json ...] -o FILE", "charts of --json results: FILE.html (one self-contained page), .svg or .png"},
	{"sockit bench compare A.json B.json [...]", "the ratio table of two runs or more"},
	{"sockit bench merge A.json B.json [...]", "runs of several clients as one, histograms merged (exact percentiles)"},
}

// benchExamples end `sockit bench --help`: one question each.
var benchExamples = [][2]string{
	{"sockit bench 127.0.0.1:5201 -t 10 -P 2", "throughput, two streams (as iperf3 -P 2; -R the other way, --bidir both)"},
	{"sockit bench -m rr --rate 10000 -c 4 127.0.0.1:5201", "latency percentiles at 10,000 requests/s, coordinated omission corrected"},
	{"sockit bench -m connect -c 16 127.0.0.1:5201", "connections per second, and connect and first-byte latency"},
	{"sockit bench UDP:127.0.0.1:5201 --rate 20000", "UDP loss, reordering, jitter and one-way delay"},
	{"sockit bench -m rr 'OPENSSL:db:5201,via=socks5://127.0.0.1:1080'", "the same questions through TLS and a proxy"},
	{"sockit bench --json 127.0.0.1:5201 > a.json", "a result to chart, compare or merge later"},
}

// benchMeta names each bench option's value in the help.
var benchMeta = map[string]string{
	"mode": "MODE", "time": "SECONDS", "count": "N", "omit": "SECONDS", "interval": "SECONDS",
	"parallel": "N", "concurrency": "N", "dir": "DIR", "length": "SIZE", "reply": "SIZE[-MAX]",
	"rate": "PER_SECOND", "delay": "DURATION", "delay-every": "N", "drop": "SHARE",
}

// printBenchHelp is `sockit bench --help`.
func printBenchHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage:")
	for _, s := range benchSynopsis {
		fmt.Fprintf(w, "  %s\n", s[0])
		writeColumns(w, "", capitalize(s[1])+".", 6)
	}
	fmt.Fprintln(w, "\nOptions:")
	var b benchFlags
	b.flagSet().VisitAll(func(f *pflag.Flag) {
		left := "  "
		if f.Shorthand != "" {
			left += "-" + f.Shorthand + ", "
		} else {
			left += "    "
		}
		left += "--" + f.Name
		if f.Value.Type() != "bool" {
			left += " " + benchMeta[f.Name]
		}
		writeColumns(w, left, capitalize(f.Usage)+".", 28)
	})
	fmt.Fprintln(w, "\nExamples:")
	for _, e := range benchExamples {
		fmt.Fprintf(w, "  %s\n", e[0])
		writeColumns(w, "", capitalize(e[1])+".", 6)
	}
	fmt.Fprintln(w, "\nSee man sockit-bench.")
}

// benchPage is sockit-bench.1.
func benchPage() string {
	var b bytes.Buffer
	page(&b, "sockit-bench", "throughput, latency percentiles and connection rate over any address")
	b.WriteString(".SH SYNOPSIS\n")
	for i, s := range benchSynopsis {
		if i > 0 {
			b.WriteString(".br\n")
		}
		fmt.Fprintf(&b, ".B %s\n", roff(s[0]))
	}
	b.WriteString(".SH DESCRIPTION\n")
	for _, s := range benchSynopsis {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(s[0]), roffLines(capitalize(s[1])+"."))
	}
	b.WriteString(`.PP
Latencies are kept in HdrHistograms, one per worker, merged each interval.
Without \fB\-\-rate\fR a request/response test is a closed loop: each latency
counts from its actual send, so a stall hides the requests it held back. With
\fB\-\-rate\fR the loop is open: each latency counts from the request's intended
send time, as wrk2 corrects coordinated omission. The output says which.
.SH OPTIONS
`)
	var f benchFlags
	f.flagSet().VisitAll(func(fl *pflag.Flag) {
		tag := `\fB\-\-` + roff(fl.Name) + `\fR`
		if fl.Shorthand != "" {
			tag = `\fB\-` + roff(fl.Shorthand) + `\fR, ` + tag
		}
		if fl.Value.Type() != "bool" {
			tag += ` \fI` + roff(benchMeta[fl.Name]) + `\fR`
		}
		fmt.Fprintf(&b, ".TP\n%s\n%s\n", tag, roffLines(capitalize(fl.Usage)+"."))
	})
	b.WriteString(".SH EXAMPLES\n")
	for _, e := range benchExamples {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(e[0]), roffLines(capitalize(e[1])+"."))
	}
	b.WriteString(".SH SEE ALSO\n.BR sockit (1),\n.BR iperf3 (1)\n")
	return b.String()
}
