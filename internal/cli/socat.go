package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tap"
)

// socatLinger is socat's default -t: how long the other direction may go
// on after one reached EOF.
const socatLinger = 500 * time.Millisecond

// relayFlags are the global options of `sockit relay` and of socat.
type relayFlags struct {
	debug        int
	text, hex    bool // -v, -x
	toB, toA     bool // -u, -U
	linger, idle time.Duration
	lingerSet    bool
	logFile      string
	family       string // "4" or "6" from -4/-6
	version      bool
	help         int // -h 1, -hh 2, -hhh 3
	explain      bool
	args         []string
}

// parseRelay reads socat's global options: single-dash, some glued to
// their value (-dd, -lf/path, -t0.5), and stops at the first address.
func parseRelay(argv []string) (*relayFlags, error) {
	o := &relayFlags{}
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
		if a == "-" || !strings.HasPrefix(a, "-") {
			break
		}
		var err error
		switch {
		case a == "-V" || a == "--version":
			o.version = true
		case a == "-h" || a == "-?" || a == "--help":
			o.help = 1
		case a == "-hh":
			o.help = 2
		case a == "-hhh":
			o.help = 3
		case a == "--explain":
			o.explain = true
		case strings.Trim(a, "-d") == "" && strings.HasPrefix(a, "-d"):
			o.debug += len(a) - 1
		case a == "-v":
			o.text = true
		case a == "-x":
			o.hex = true
		case a == "-u":
			o.toB = true
		case a == "-U":
			o.toA = true
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
		case a == "-ls":
		default:
			err = usagef("unknown option %q", a)
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
	log      io.Writer
	tap      func(toB bool, p []byte)
}

// relay is `sockit relay [options] ADDRESS ADDRESS`, and socat's command
// line when invoked as socat.
func (r *runner) relay(ctx context.Context, argv []string, socat bool) error {
	o, err := parseRelay(argv)
	if err != nil {
		return err
	}
	s := &relaySession{r: r, o: o, socat: socat, log: r.stderr}
	switch {
	case o.version:
		s.printVersion()
		return nil
	case o.help > 0:
		s.printHelp()
		return nil
	case o.explain:
		if len(o.args) != 1 {
			return usagef("--explain wants one address, got %d", len(o.args))
		}
		sp, err := address.Parse(o.args[0])
		if err != nil {
			return usagef("%v", err)
		}
		fmt.Fprint(r.stdout, sp.Explain())
		return nil
	}
	if len(o.args) != 2 {
		return usagef("relay wants exactly two addresses, got %d", len(o.args))
	}
	var specs [2]address.Spec
	for i, in := range o.args {
		sp, err := address.Parse(in)
		if err != nil {
			if socat {
				return socatParseError(err)
			}
			return usagef("%v", err)
		}
		if _, ok := sp.Opt("pf"); !ok && o.family != "" && ipKind(sp.Kind) {
			sp.Options = append(sp.Options, address.Option{Name: "pf", Value: "ip" + o.family})
		}
		specs[i] = sp
	}
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("log file: %w", err)
		}
		defer f.Close()
		s.log = f
	}
	if o.text || o.hex {
		l := &tap.SocatLog{W: s.log, Text: o.text, Hex: o.hex}
		s.tap = l.Chunk
	}
	a, b := specs[0], specs[1]
	s.datagram = datagramKind(a.Kind) || datagramKind(b.Kind)
	switch {
	case listens(a.Kind):
		return s.serve(ctx, a, b, true)
	case listens(b.Kind):
		return s.serve(ctx, b, a, false)
	}
	ca, err := s.open(ctx, a)
	if err != nil {
		return err
	}
	cb, err := s.open(ctx, b)
	if err != nil {
		ca.Close()
		return err
	}
	return s.join(ctx, ca, cb)
}

// serve listens on l and joins every accepted conn with a fresh o: one
// conn, or with fork one goroutine per conn (max-children at once; more
// wait, as socat's parent waits).
func (s *relaySession) serve(ctx context.Context, l, o address.Spec, listenIsA bool) error {
	ln, err := endpoint.Listen(ctx, l)
	if err != nil {
		return fmt.Errorf("listen %s: %w", l, unwrapOp(err))
	}
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	s.notice("listening on %s", endpoint.Addr(ln.Addr()))
	_, fork := l.Opt("fork")
	limit := 0
	if v, ok := l.Opt("max-children"); ok {
		limit, _ = strconv.Atoi(v) // validated by address.Parse
	}
	var slots chan struct{}
	if limit > 0 {
		slots = make(chan struct{}, limit)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := accept(ctx, ln, func(err error) {
			s.logLine('W', fmt.Sprintf("accept: %v; waiting for a session to end", err))
		})
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.notice("accepting connection from %s on %s", endpoint.Addr(c.RemoteAddr()), endpoint.Addr(c.LocalAddr()))
		if !fork {
			ln.Close()
			return s.handle(ctx, c, o, listenIsA)
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				c.Close()
				return nil
			}
		}
		wg.Go(func() {
			if slots != nil {
				defer func() { <-slots }()
			}
			if err := s.handle(ctx, c, o, listenIsA); err != nil && ctx.Err() == nil {
				s.errorf("%v", err)
			}
		})
	}
}

// handle joins an accepted conn with the other address. A command on the
// other side gets the socket itself when nothing needs to see the bytes.
func (s *relaySession) handle(ctx context.Context, c stream.Conn, o address.Spec, listenIsA bool) error {
	if (o.Kind == address.Exec || o.Kind == address.System) && s.tap == nil && s.o.idle == 0 && !crlf(o) {
		joined, err := serveChild(ctx, s.command(o), c, s.options())
		if err != nil {
			return err
		}
		return joined
	}
	other, err := s.open(ctx, o)
	if err != nil {
		c.Close()
		return err
	}
	if listenIsA {
		return s.join(ctx, c, other)
	}
	return s.join(ctx, other, c)
}

// open opens a non-listening address.
func (s *relaySession) open(ctx context.Context, sp address.Spec) (stream.Conn, error) {
	var c stream.Conn
	var err error
	switch sp.Kind {
	case address.Stdio, address.Stdin, address.Stdout:
		c = endpoint.StdioFor(sp.Kind, s.r.stdin, s.r.stdout)
	case address.Exec, address.System:
		c, err = s.command(sp).Open(ctx)
	default:
		c, err = endpoint.Dial(ctx, sp)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, err // "open /path: no such file or directory" says it all
		}
		return nil, fmt.Errorf("%s: %w", sp, unwrapOp(err))
	}
	if crlf(sp) {
		c = stream.CRLF(c)
	}
	return c, nil
}

func (s *relaySession) command(sp address.Spec) endpoint.Command {
	cmd := endpoint.CommandFor(sp)
	cmd.Stderr = s.r.stderr // socat's children share its stderr
	return cmd
}

// join relays a (the first address) and b (the second).
func (s *relaySession) join(ctx context.Context, a, b stream.Conn) error {
	s.notice("starting data transfer loop")
	st, err := relay.Join(ctx, a, b, s.options())
	s.notice("transferred %d bytes left to right, %d right to left in %.3f s", st.AToB, st.BToA, st.Elapsed.Seconds())
	if errors.Is(err, relay.ErrIdle) {
		s.notice("inactivity timeout (-T) expired")
		return nil // socat ends quietly and exits 0
	}
	return err
}

func (s *relaySession) options() relay.Options {
	// sockit relay is a process of its own: the loop engine may hold a P.
	opt := relay.Options{Idle: s.o.idle, Tap: s.tap, Linger: s.o.linger, Loop: true}
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

// notice logs at -dd, socat's level for N messages.
func (s *relaySession) notice(format string, a ...any) {
	if s.o.debug >= 2 {
		s.logLine('N', fmt.Sprintf(format, a...))
	}
}

func (s *relaySession) errorf(format string, a ...any) {
	s.logLine('E', fmt.Sprintf(format, a...))
}

// logLine writes one log line: socat's "2026/11/24 21:06:52 socat[3750] E
// msg" when invoked as socat, "sockit relay: msg" otherwise.
func (s *relaySession) logLine(level byte, msg string) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.socat {
		fmt.Fprintf(s.log, "%s socat[%d] %c %s\n", time.Now().Format("2006/01/02 15:04:05"), os.Getpid(), level, msg)
		return
	}
	fmt.Fprintf(s.log, "sockit relay: %s\n", msg)
}

// socatParseError rewrites an address error in socat's words, where
// socat has words for it, keeping sockit's pointer and hint.
func socatParseError(err error) error {
	var ae *address.Error
	if errors.As(err, &ae) && ae.Msg == "unknown address type" {
		msg := fmt.Sprintf("unknown device/address %q", ae.Token)
		if ae.Hint != "" {
			msg += " (" + ae.Hint + ")"
		}
		return errors.New(msg)
	}
	return err
}

func listens(k address.Kind) bool {
	switch k {
	case address.TCPListen, address.UDPListen, address.UDPRecvfrom, address.UnixListen, address.UnixRecvfrom, address.OpenSSLListen:
		return true
	}
	return false
}

func ipKind(k address.Kind) bool {
	switch k {
	case address.TCP, address.TCPListen, address.UDP, address.UDPListen, address.UDPSendto, address.UDPRecvfrom,
		address.OpenSSL, address.OpenSSLListen:
		return true
	}
	return false
}

func datagramKind(k address.Kind) bool {
	switch k {
	case address.UDP, address.UDPListen, address.UDPSendto, address.UDPRecvfrom, address.UnixSendto, address.UnixRecvfrom:
		return true
	}
	return false
}

func crlf(sp address.Spec) bool {
	v, ok := sp.Opt("crlf")
	return ok && v != "0"
}

// features are what -V lists, in socat's order; true means sockit has it.
var features = []struct {
	name string
	on   bool
}{
	{"STDIO", true}, {"FDNUM", false}, {"FILE", true}, {"CREAT", true}, {"GOPEN", true},
	{"TERMIOS", false}, {"PIPE", true}, {"UNIX", true}, {"ABSTRACT_UNIXSOCKET", true},
	{"IP4", true}, {"IP6", true}, {"RAWIP", false}, {"GENERICSOCKET", false},
	{"INTERFACE", false}, {"TCP", true}, {"UDP", true}, {"SCTP", false}, {"LISTEN", true},
	{"SOCKS4", false}, {"SOCKS4A", false}, {"VSOCK", false}, {"PROXY", false},
	{"SYSTEM", true}, {"EXEC", true}, {"READLINE", false}, {"TUN", false}, {"PTY", false},
	{"OPENSSL", false}, {"FIPS", false}, {"LIBWRAP", false}, {"SYCLS", false},
	{"FILAN", false}, {"RETRY", true},
}

func (s *relaySession) printVersion() {
	w := s.r.stdout
	fmt.Fprintf(w, "sockit %s relay, socat-compatible - https://github.com/sockit/sockit\n", Version)
	fmt.Fprintf(w, "socat version 1.7.4.4 compatible, sockit %s built with %s\n", Version, runtime.Version())
	fmt.Fprintf(w, "   running on %s %s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(w, "features:")
	for _, f := range features {
		if f.on {
			fmt.Fprintf(w, "  #define WITH_%s 1\n", f.name)
		} else {
			fmt.Fprintf(w, "  #undef WITH_%s\n", f.name)
		}
	}
}

func (s *relaySession) printHelp() {
	w := s.r.stdout
	name := "sockit relay"
	if s.socat {
		name = "socat"
	}
	fmt.Fprintf(w, `%[1]s: join two addresses and copy bytes both ways
Usage:
%[1]s [options] <bi-address> <bi-address>
   options:
      -V     print version and feature information to stdout, and exit
      -h|-?  print this help text describing command line options and addresses
      -hh    like -h, plus a list of all address option names
      -d[ddd]         increase verbosity (-dd logs connections and byte counts)
      -lf<logfile>    log to file
      -ls             log to stderr (default)
      -v     verbose text dump of data traffic
      -x     verbose hexadecimal dump of data traffic
      -b<size_t>      accepted for socat compatibility; the kernel path sizes its own buffers
      -T<timeout>     end after this long without data, either way
      -t<timeout>     after one side's EOF, end this long later (socat's default 0.5 s;
                      sockit relay waits for both sides, except over datagrams)
      -u     unidirectional mode (left to right)
      -U     unidirectional mode (right to left)
      -4     prefer IPv4 if version is not explicitly specified
      -6     prefer IPv6 if version is not explicitly specified
      --explain <address>  print how sockit reads an address, and exit
   address-head:
`, name)
	for _, k := range address.Kinds() {
		fmt.Fprintf(w, "      %s\n", strings.ToLower(address.Usage(k)))
	}
	if s.o.help >= 2 {
		fmt.Fprintln(w, "   address options:")
		for _, line := range address.OptionHelp("") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
}
