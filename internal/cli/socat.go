package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/serve"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tap"
)

// socatLinger is socat's default -t: how long the other direction may go
// on after one reached EOF.
const socatLinger = 500 * time.Millisecond

// relayFlags are the global options of `sockit relay` and of socat.
type relayFlags struct {
	debug          int
	text, hex      bool // -v, -x
	toB, toA       bool // -u, -U
	linger, idle   time.Duration
	lingerSet      bool
	logFile        string // -lf
	syslog, mixed  bool   // -ly, -lm
	facility       string // -ly[facility], -lm[facility]
	progName       string // -lp
	micro          bool   // -lu
	hostName       bool   // -lh
	filan          bool   // -D
	anyGroup       bool   // -g
	lock           string // -L, or -W with waitLock
	waitLock       bool
	rawToB, rawToA string // -r, -R
	sloppy         bool   // -s
	family         string // "4" or "6" from -4/-6
	version        bool
	help           int // -h 1, -hh 2, -hhh 3
	explain        bool
	watch          watchFlags // --json, --capture, --keylog, --monitor...
	args           []string
}

// watchName is the option a long argument names: "json" for
// --json=FILE.
func watchName(a string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
	return name
}

// parseWatch reads one watch option at argv[*i] through its flag set,
// taking the next argument as its value when it needs one.
func parseWatch(fs *pflag.FlagSet, argv []string, i *int) error {
	a := argv[*i]
	args := []string{a}
	if f := fs.Lookup(watchName(a)); !strings.Contains(a, "=") && f.NoOptDefVal == "" {
		if *i+1 >= len(argv) {
			return usagef("option %s needs a value", a)
		}
		*i++
		args = append(args, argv[*i])
	}
	if err := fs.Parse(args); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// parseRelay reads socat's global options: single-dash, some glued to
// their value (-dd, -lf/path, -t0.5, -lpNAME) and some taking the next
// word when not, and stops at the first address.
func parseRelay(argv []string) (*relayFlags, error) {
	o := &relayFlags{}
	watch := o.watch.flagSet()
	value := func(i *int, a, name string) (string, error) {
		if v := strings.TrimPrefix(a, name); v != "" {
			return v, nil
		}
		*i++
		if *i >= len(argv) {
			return "", usagef("option %s needs a value", name)
		}
		return argv[*i], nil
	}
	seconds := func(i *int, a, name string) (time.Duration, error) {
		v, err := value(i, a, name)
		if err != nil {
			return 0, err
		}
		d, err := address.ParseSeconds(v)
		if err != nil {
			return 0, usagef("option %s: %v", name, err)
		}
		return d, nil
	}
	i := 0
	for ; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			i++
			break
		}
		if a == "-" || !strings.HasPrefix(a, "-") || a[1] == ',' || a[1] == '!' {
			break
		}
		var err error
		switch {
		case a == "-V" || a == "--version":
			o.version = true
		case a == "-h" || a == "-?" || a == "--help":
			o.help = 1
		case a == "-hh" || a == "-??":
			o.help = 2
		case a == "-hhh" || a == "-???":
			o.help = 3
		case a == "--explain":
			o.explain = true
		case strings.HasPrefix(a, "--") && watch.Lookup(watchName(a)) != nil:
			err = parseWatch(watch, argv, &i)
		case strings.Trim(a, "-d") == "" && strings.HasPrefix(a, "-d"):
			o.debug += len(a) - 1
		case a == "-D":
			o.filan = true
		case a == "-v":
			o.text = true
		case a == "-x":
			o.hex = true
		case a == "-u":
			o.toB = true
		case a == "-U":
			o.toA = true
		case a == "-g":
			o.anyGroup = true
		case a == "-s":
			o.sloppy = true
		case a == "-4" || a == "-6":
			o.family = a[1:]
		case strings.HasPrefix(a, "-t"):
			o.linger, err = seconds(&i, a, "-t")
			o.lingerSet = true
		case strings.HasPrefix(a, "-T"):
			o.idle, err = seconds(&i, a, "-T")
		case strings.HasPrefix(a, "-b"):
			var v string
			if v, err = value(&i, a, "-b"); err == nil {
				if _, serr := address.ParseSize(v); serr != nil {
					err = usagef("option -b: %v", serr)
				}
			}
		case strings.HasPrefix(a, "-lf"):
			o.logFile, err = value(&i, a, "-lf")
		case strings.HasPrefix(a, "-lp"):
			o.progName, err = value(&i, a, "-lp")
		case a == "-ls":
			o.syslog, o.mixed, o.logFile = false, false, ""
		case strings.HasPrefix(a, "-ly"):
			o.syslog, o.facility = true, a[3:]
		case strings.HasPrefix(a, "-lm"):
			o.mixed, o.facility = true, a[3:]
		case a == "-lu":
			o.micro = true
		case a == "-lh":
			o.hostName = true
		case strings.HasPrefix(a, "-L"), strings.HasPrefix(a, "-W"):
			o.waitLock = a[1] == 'W'
			o.lock, err = value(&i, a, a[:2])
		case strings.HasPrefix(a, "-r"):
			o.rawToB, err = value(&i, a, "-r")
		case strings.HasPrefix(a, "-R"):
			o.rawToA, err = value(&i, a, "-R")
		default:
			err = &unknownOption{usageError{msg: fmt.Sprintf("unknown option %q", a)}, a}
		}
		if err != nil {
			return nil, err
		}
	}
	if o.toB && o.toA {
		return nil, usagef("cannot use both -u and -U")
	}
	o.args = argv[i:]
	return o, nil
}

// relaySession runs one `sockit relay` (or socat) invocation.
type relaySession struct {
	r        *runner
	o        *relayFlags
	socat    bool
	datagram bool // an address is UDP or Unix datagram: EOF may never come
	specs    [2]address.Spec
	log      *relayLog
}

// errReported is an error the relay has already logged in its own shape.
var errReported = errors.New("error reported")

// relay is `sockit relay [options] ADDRESS ADDRESS`, and socat's command
// line when invoked as socat.
// unknownOption is a relay option that is none: socat's words, and under
// sockit relay a suggestion.
type unknownOption struct {
	usageError
	opt string
}

func (r *runner) relay(ctx context.Context, argv []string, socat bool) error {
	o, err := parseRelay(argv)
	var uo *unknownOption
	if !socat && errors.As(err, &uo) {
		return usagef("unknown option %q%s; try 'sockit relay -h' or 'sockit help relay'", uo.opt, suggestion(uo.opt, newCompletionWords().relayWords))
	}
	if err != nil {
		return err
	}
	log, err := newRelayLog(r, o, socat)
	if err != nil {
		return err
	}
	defer log.Close()
	ctx, watching, err := r.startWatching(ctx, o.watch)
	if err != nil {
		return err
	}
	defer watching.Close()
	s := &relaySession{r: r, o: o, socat: socat, log: log}
	err = s.run(ctx)
	if err == nil || errors.Is(err, errHelp) || ctx.Err() != nil {
		return err
	}
	var ue *usageError
	if !socat && errors.As(err, &ue) {
		return err
	}
	msg := err.Error()
	if socat {
		msg = socatErrorText(err)
	}
	s.log.line('E', msg)
	return errReported
}

// socatErrorText words a system error as socat does, naming the call and
// giving strerror's text, which scripts grep: "connect(AF=2
// 127.0.0.1:1): Connection refused", "open(\"/x\"): No such file or
// directory".
func socatErrorText(err error) string {
	strerror := func(e error) string {
		var errno syscall.Errno
		if errors.As(e, &errno) {
			return capitalize(errno.Error())
		}
		return e.Error()
	}
	var op *net.OpError
	var pe *fs.PathError
	switch {
	case errors.As(err, &op) && op.Addr != nil:
		call := map[string]string{"dial": "connect", "listen": "bind", "read": "read", "write": "write"}[op.Op]
		if call == "" {
			call = op.Op
		}
		af := syscall.AF_INET
		switch a := op.Addr.(type) {
		case *net.UnixAddr:
			return fmt.Sprintf("%s(AF=%d %q): %s", call, syscall.AF_UNIX, a.Name, strerror(op.Err))
		case *net.TCPAddr:
			if a.IP.To4() == nil {
				af = syscall.AF_INET6
			}
		case *net.UDPAddr:
			if a.IP.To4() == nil {
				af = syscall.AF_INET6
			}
		}
		return fmt.Sprintf("%s(AF=%d %s): %s", call, af, op.Addr, strerror(op.Err))
	case errors.As(err, &pe):
		return fmt.Sprintf("%s(%q): %s", pe.Op, pe.Path, strerror(pe.Err))
	}
	return err.Error()
}

func (s *relaySession) run(ctx context.Context) error {
	o, r := s.o, s.r
	switch {
	case o.version:
		s.printVersion()
		return nil
	case o.help == 1 && !s.socat && len(o.args) == 1:
		return printTopic(s.r.stdout, o.args[0]) // sockit relay --help TCP-LISTEN
	case o.help > 0:
		s.printHelp()
		return nil
	case o.explain:
		if len(o.args) != 1 {
			return usagef("--explain wants one address, got %d", len(o.args))
		}
		sp, err := address.Parser{AnyGroup: o.anyGroup}.Parse(o.args[0])
		if err != nil {
			return usagef("%v", err)
		}
		fmt.Fprint(r.stdout, sp.Explain())
		return nil
	}
	if len(o.args) != 2 {
		if s.socat {
			return fmt.Errorf("exactly 2 addresses required (there are %d); use option \"-h\" for help", len(o.args))
		}
		return usagef("relay wants exactly two addresses, got %d", len(o.args))
	}
	var specs [2]address.Spec
	for i, in := range o.args {
		sp, err := address.Parser{AnyGroup: o.anyGroup}.Parse(in)
		if err != nil {
			if s.socat {
				return socatParseError(err)
			}
			return usagef("%v", err)
		}
		for h := &sp; h != nil; h = h.Writer {
			if _, ok := h.Opt("pf"); !ok && o.family != "" && ipKind(h.Kind) {
				h.Options = append(h.Options, address.Option{Name: "pf", Value: "ip" + o.family})
			}
			if s.socat && datagramKind(h.Kind) {
				socatDatagramDefaults(h)
			}
			if _, ok := h.Opt("pty"); ok && s.socat && (h.Kind == address.Exec || h.Kind == address.System) && !hasShut(*h) {
				// socat leaves a child's terminal open at end of stream;
				// sockit relay types ^D, as a user at the terminal would.
				h.Options = append(h.Options, address.Option{Name: "shut-none"})
			}
		}
		specs[i] = sp
	}
	if o.lock != "" {
		unlock, err := endpoint.TakeLock(ctx, o.lock, o.waitLock)
		if err != nil {
			return err
		}
		defer unlock()
	}
	taps, err := s.taps()
	if err != nil {
		return err
	}
	defer taps.Close()
	for _, sp := range specs {
		if err := endpoint.DropPrivileges(sp, endpoint.PhaseEarly); err != nil {
			return err
		}
	}
	s.specs = specs
	a, b := specs[0], specs[1]
	s.datagram = datagramKind(a.Kind) || datagramKind(b.Kind)
	rl := &serve.Relay{A: a, B: b, Options: s.options(), Watch: r.watch, Pipes: o.filan,
		Stdin: r.stdin, Stdout: r.stdout, Stderr: r.stderr,
		SocketPair: s.socat, // socat talks to a child over a socket pair unless told pipes
		Log: func(level byte, msg string) {
			s.log.line(level, msg)
			if msg == serve.TransferStarting {
				s.log.started() // -lm: syslog from now on
			}
		},
	}
	rl.Open = s.open(rl)
	if o.filan {
		rl.Joining = func(a, b stream.Conn) {
			s.r.mu.Lock()
			filan(s.log.w, a, b)
			s.r.mu.Unlock()
		}
	}
	err = rl.Run(ctx)
	if le := (*serve.ListenError)(nil); errors.As(err, &le) {
		if s.socat {
			return le.Err // socatErrorText words it
		}
		return fmt.Errorf("listen %s: %w", le.Spec, unwrapOp(le.Err))
	}
	return err
}

// taps sets up -v, -x, -r and -R: observers of every session's bytes.
// The returned closer closes the raw dump files.
func (s *relaySession) taps() (io.Closer, error) {
	if s.o.text || s.o.hex {
		s.r.observe(&tap.SocatLog{W: s.log.w, Text: s.o.text, Hex: s.o.hex})
	}
	var files closers
	for _, d := range []struct {
		path string
		aToB bool
	}{{s.o.rawToB, true}, {s.o.rawToA, false}} {
		if d.path == "" {
			continue
		}
		f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o664)
		if err != nil {
			files.Close()
			return nil, fmt.Errorf("raw dump: %w", err)
		}
		files = append(files, f)
		s.r.observe(&tap.Raw{W: f, AToB: d.aToB})
	}
	return files, nil
}

// closers closes every file it holds.
type closers []*os.File

func (c closers) Close() error {
	for _, f := range c {
		f.Close()
	}
	return nil
}

// open opens a non-listening address, its errors in the personality's
// words.
func (s *relaySession) open(rl *serve.Relay) func(ctx context.Context, sp address.Spec, forked bool) (stream.Conn, error) {
	return func(ctx context.Context, sp address.Spec, forked bool) (stream.Conn, error) {
		c, err := rl.OpenAddress(ctx, sp, forked)
		if err != nil {
			var pe *fs.PathError
			if s.socat || errors.As(err, &pe) {
				return nil, err // "open /path: no such file or directory" says it all
			}
			return nil, fmt.Errorf("%s: %w", sp, unwrapOp(err))
		}
		return c, nil
	}
}

// socatDatagramDefaults gives a datagram address socat's end-of-stream
// rules unless it says otherwise: an empty datagram is skipped, not EOF
// (socat survives port scans so), and EOF sends nothing. sockit relay
// instead sends and reads an empty datagram as EOF, as ncat and nc do.
func socatDatagramDefaults(sp *address.Spec) {
	if _, ok := sp.Opt("null-eof"); !ok {
		sp.Options = append(sp.Options, address.Option{Name: "null-eof", Value: "0"})
	}
	if !hasShut(*sp) {
		sp.Options = append(sp.Options, address.Option{Name: "shut-none"})
	}
}

// hasShut reports whether sp says what end of stream does to it.
func hasShut(sp address.Spec) bool {
	for _, n := range []string{"shut-none", "shut-down", "shut-close", "shut-null", "end-close"} {
		if _, ok := sp.Opt(n); ok {
			return true
		}
	}
	return false
}

func (s *relaySession) options() relay.Options {
	// sockit relay is a process of its own: the loop engine may hold a P.
	opt := relay.Options{Idle: s.o.idle, Linger: s.o.linger, Loop: true}
	// socat ends 0.5 s after the first EOF. sockit relay waits for both
	// directions, except over datagrams, where a peer may never send EOF.
	if (s.socat || s.datagram) && !s.o.lingerSet {
		opt.Linger = socatLinger
	}
	switch {
	case s.o.toB:
		opt.Direction = relay.AToB
	case s.o.toA:
		opt.Direction = relay.BToA
	}
	return opt
}

// socatParseError gives an address error in socat's words, where socat
// has words for it.
func socatParseError(err error) error {
	var ae *address.Error
	if errors.As(err, &ae) && ae.Socat != "" {
		return errors.New(ae.Socat)
	}
	return err
}

func ipKind(k address.Kind) bool {
	switch k {
	case address.TCP, address.TCPListen, address.UDP, address.UDPListen, address.UDPSendto, address.UDPRecvfrom,
		address.UDPRecv, address.UDPDatagram, address.IPSendto, address.IPRecvfrom, address.IPRecv, address.IPDatagram,
		address.OpenSSL, address.OpenSSLListen:
		return true
	}
	return false
}

func datagramKind(k address.Kind) bool {
	switch k {
	case address.UDP, address.UDPListen, address.UDPSendto, address.UDPRecvfrom, address.UnixSendto, address.UnixRecvfrom,
		address.UDPRecv, address.UDPDatagram, address.UnixRecv, address.IPSendto, address.IPRecvfrom, address.IPRecv,
		address.IPDatagram, address.SocketSendto, address.SocketRecvfrom, address.SocketRecv, address.SocketDatagram:
		return true
	}
	return false
}
