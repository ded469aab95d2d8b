package cli

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/federation"
	"github.com/sockit/sockit/hub"
	"github.com/sockit/sockit/internal/luaexec"
	"github.com/sockit/sockit/monitor"
	"github.com/sockit/sockit/proxyserver"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/serve"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tap"
	"github.com/sockit/sockit/tlsconf"
)

// runner holds one invocation's streams and wording.
type runner struct {
	name           string // "sockit", or "Ncat" when invoked as ncat
	stdin          io.Reader
	stdout, stderr io.Writer
	verbose        int
	voice          voice            // the personality's milestone lines; nil is ncat's (the nc's print nothing else)
	watch          *serve.Watch     // --json's and --capture's; nil when not asked for
	monitor        *monitor.Monitor // --monitor's; nil when not asked for
	mu             sync.Mutex       // serialises writes to stdout and stderr
}

func (r *runner) errorf(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.stderr, "%s: "+format+"\n", append([]any{r.name}, a...)...)
}

// logf prints a -v message.
func (r *runner) logf(format string, a ...any) {
	if r.verbose > 0 && r.voice == nil {
		r.errorf(format, a...)
	}
}

// debugf logs what -vv shows: under ncat's name in its "NCAT DEBUG:"
// shape.
func (r *runner) debugf(format string, a ...any) {
	if r.verbose < 2 || r.voice != nil {
		return
	}
	if r.name == "Ncat" {
		r.say("NCAT DEBUG: "+format, a...)
		return
	}
	r.errorf(format, a...)
}

// eofReporter says "EOF on stdin" (ncat's -vv words) when its reader
// first ends.
type eofReporter struct {
	io.Reader
	r    *runner
	once sync.Once
}

func (e *eofReporter) Read(p []byte) (int, error) {
	n, err := e.Reader.Read(p)
	if err == io.EOF {
		e.once.Do(func() { e.r.debugf("EOF on stdin") })
	}
	return n, err
}

func (r *runner) ncat(ctx context.Context, argv []string) error {
	o, err := parseNcat(argv)
	if err != nil {
		return err
	}
	if o.help {
		if r.name == "Ncat" {
			printNcatHelp(r.stdout)
		} else {
			printSockitHelp(r.stdout)
		}
		return errHelp
	}
	if o.version {
		if r.name == "Ncat" {
			fmt.Fprintf(r.stdout, "%s: Version %s\n", r.name, Version)
		} else {
			printVersion(r.stdout)
		}
		return nil
	}
	o.asNcat = r.name == "Ncat"
	return r.run(ctx, o)
}

// run runs what a netcat command line asks for, whichever personality
// parsed it.
func (r *runner) run(ctx context.Context, o *ncatOptions) error {
	if o.listen && len(o.proxies) > 0 {
		if o.asNcat {
			return usagef("Invalid option combination: --proxy and -l")
		}
		return usagef("Invalid option combination: --proxy and -l (a proxy server is -l --proxy-type)")
	}
	if o.listen && o.proxyType != "" {
		if o.proxyType != "http" && o.proxyType != "socks5" {
			return usagef("a proxy server is --proxy-type http or socks5, not %q", o.proxyType)
		}
		o.keep = true // a proxy serves every client, as ncat's
	}
	if err := checkBroker(o); err != nil {
		return err
	}
	if o.asNcat && o.maxConnsSet && o.listen && !o.keep {
		r.errorf("Warning: Maximum connections ignored, since it does not take effect without -k or --broker.")
	}
	ctx, watching, err := r.startWatching(ctx, o.watch)
	if err != nil {
		return err
	}
	defer watching.Close()
	if o.zero {
		if o.listen {
			return &usageError{msg: "Services designed for LISTENING can't be used with -z", bare: true}
		}
		if o.execs() {
			return usagef("Command execution can't be done along with option -z")
		}
		r.verbose = o.verbose
		return r.scan(ctx, o)
	}
	p, err := buildSpec(o)
	if err != nil {
		return err
	}
	r.verbose = o.verbose
	if o.sslInsecure {
		r.errorf("WARNING: --ssl-insecure: the peer's identity is not checked; anyone on the path can read and change this session.")
	}
	if o.verbose > 0 {
		r.logf("Version %s", Version)
	}
	p.spec.Options = append(p.spec.Options, o.sockopts...)
	if o.noStdin {
		r.stdin = strings.NewReader("")
	}
	s := session{r: r, o: o, p: p, eof: eofWait}
	if o.eof != "" {
		if s.eof, err = parseEOF(o.eof); err != nil {
			return err
		}
	} else if o.eofDefault != "" {
		s.eof, _ = parseEOF(o.eofDefault)
	} else if o.asNcat && p.listen && !o.keep {
		s.eof, _ = parseEOF("remote") // ncat's listener quits when its client's stream ends
	} else if o.asNcat && !p.listen && o.udp {
		s.eof, _ = parseEOF("stdin") // ncat's datagram client quits at stdin's EOF, answered or not
	}
	if err := s.openLogs(); err != nil {
		return err
	}
	defer s.closeLogs()
	if p.listen {
		return s.listen(ctx)
	}
	return s.connect(ctx)
}

// checkBroker applies --broker and --chat: both listen and keep open, as
// ncat's, and refuse what they cannot combine with.
func checkBroker(o *ncatOptions) error {
	if o.chat {
		if !o.listen {
			return usagef("Invalid option combination: `--chat' with connect")
		}
		o.broker = true
	}
	if !o.broker {
		if o.federate != "" || o.room != "" || o.federateNode != "" || o.federateCreds != "" || o.federateCA != "" {
			return usagef("--federate and its options (--room, --federate-node, --federate-creds, --federate-ca) are for --broker and --chat")
		}
		return nil
	}
	if o.federate == "" && (o.room != "" || o.federateNode != "" || o.federateCreds != "" || o.federateCA != "") {
		return usagef("--room, --federate-node, --federate-creds and --federate-ca need --federate URL")
	}
	switch {
	case o.execs():
		return usagef("Invalid option combination: --broker and -e")
	case o.udp:
		return usagef("UDP mode does not support connection brokering")
	case o.proxyType != "":
		return usagef("Invalid option combination: --broker and --proxy-type")
	case o.zero:
		return usagef("Invalid option combination: --broker and -z")
	}
	o.listen, o.keep = true, true
	if !o.maxConnsSet && !o.asNcat {
		o.maxConns = 0 // no ceiling but the descriptor limit; ncat's is 100
	}
	return nil
}

// session runs one ncat-style invocation.
type session struct {
	r    *runner
	o    *ncatOptions
	p    plan
	logs []io.Closer
	eof  eofPolicy // when a stdio session ends
}

// openLogs starts -o, -x and netcat 1.10's -o: taps, observers of every
// session's bytes.
func (s *session) openLogs() error {
	for _, l := range []struct {
		path string
		hex  bool
	}{{s.o.output, false}, {s.o.hexDump, true}} {
		if l.path == "" {
			continue
		}
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if s.o.appendOutput {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(l.path, flags, 0o644)
		if err != nil {
			return fmt.Errorf("open output file: %w", err)
		}
		s.logs = append(s.logs, f)
		s.r.observe(&tap.Log{W: f, Hex: l.hex})
	}
	if s.o.netcatDump != "" {
		f, err := os.OpenFile(s.o.netcatDump, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("%s: %w", s.o.netcatDump, err)
		}
		s.logs = append(s.logs, f)
		s.r.observe(&tap.NetcatDump{W: f})
	}
	return nil
}

func (s *session) closeLogs() {
	for _, c := range s.logs {
		c.Close()
	}
}

// relayOptions maps the flags to relay.Options; a is stdio, b the socket.
func (s *session) relayOptions() relay.Options {
	opt := relay.Options{NoShutdown: s.o.noShutdown, Idle: s.o.idle, CRLF: s.o.crlf, Delay: s.o.delay, EOF: s.eof.rules}
	switch {
	case s.o.sendOnly:
		opt.Direction, opt.Discard = relay.AToB, true
	case s.o.recvOnly:
		opt.Direction = relay.BToA
	}
	return opt
}

func (s *session) command() *endpoint.Command {
	cmd := s.childCommand()
	if cmd != nil {
		// ncat relays a child's bytes itself when -o or -x logs them;
		// netcat 1.10 execs the command and logs nothing.
		cmd.NoHandoff = s.o.output != "" || s.o.hexDump != ""
	}
	return cmd
}

// childCommand is the command -e, -c or --lua-exec runs per client.
func (s *session) childCommand() *endpoint.Command {
	switch {
	case s.o.exec != "":
		return &endpoint.Command{Argv: endpoint.ParseCommand(s.o.exec), Stderr: s.r.stderr, Proto: s.p.proto}
	case s.o.shExec != "":
		return &endpoint.Command{Argv: []string{s.o.shExec}, Shell: true, Stderr: s.r.stderr, Proto: s.p.proto}
	case s.o.luaExec != "":
		// sockit itself, started under the name that runs a script
		// (luaHelper), so that a script has its own process as ncat's
		// has: os.exit, a crash or a blocking call ends that one session.
		self, err := os.Executable()
		if err != nil {
			self = "/proc/self/exe"
		}
		return &endpoint.Command{Argv: []string{self, s.r.name, s.o.luaExec}, Name: luaHelper, Stderr: s.r.stderr, Proto: s.p.proto}
	}
	return nil
}

// luaHelper is the argv[0] under which sockit runs a --lua-exec script:
// "sockit-lua-exec NAME SCRIPT", NAME being the personality that reports
// the script's errors.
const luaHelper = "sockit-lua-exec"

// runLua is the helper's main: the script runs with the connection as
// its stdin and stdout.
func runLua(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "%s: want NAME SCRIPT\n", luaHelper)
		return 2
	}
	if err := luaexec.Run(args[1]); err != nil {
		fmt.Fprintf(stderr, "%s: Error running the Lua script: %v.\n", args[0], err)
		return 1
	}
	return 0
}

func (s *session) connect(ctx context.Context) error {
	dctx := ctx
	if s.o.wait > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, s.o.wait)
		defer cancel()
	}
	conn, f, err := serve.Dial(dctx, s.p.spec, strings.ToLower(s.p.proto), s.p.shown, s.r.watch)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return s.voice().dialFailed(s, err)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			s.r.logf("SSL connection to %s; server certificate %s (%s).", endpoint.Addr(conn.RemoteAddr()),
				tlsconf.Fingerprint(certs[0].Raw), certs[0].Subject)
		}
	}
	if s.o.udp && !s.o.zero {
		for _, g := range s.o.udpProbe {
			conn.Write(g) //nolint:errcheck // a refusal shows on the session's first read
		}
	}
	s.voice().connected(s, conn)
	return s.serve(ctx, conn, s.stdio(), f)
}

// stdio is stdin and stdout as a conn; at -vv its stdin says when it
// ends.
func (s *session) stdio() stream.Conn {
	c := endpoint.Stdio(s.r.stdin, s.r.stdout)
	if p, ok := c.(*stream.Pair); ok && s.r.verbose >= 2 && s.r.voice == nil {
		p.R = &eofReporter{Reader: p.R, r: s.r}
	}
	return c
}

// serve runs one conn: with a child for -e/-c, else joined with other.
func (s *session) serve(ctx context.Context, conn, other stream.Conn, f *serve.Session) error {
	if cmd := s.command(); cmd != nil {
		return s.runChild(ctx, *cmd, conn, f)
	}
	s.r.logf("EOF policy: %s.", s.eof.describe())
	var pg *progress
	if s.o.progress {
		other, pg = s.r.startProgress(conn, other)
	}
	st, err := serve.Join(ctx, conn, other, s.relayOptions(), f, s.p.spec.String())
	pg.stop(st)
	s.voice().summary(s, st)
	if s.r.voice != nil && ctx.Err() == nil {
		return nil // the nc personalities end quietly and with 0 when a peer resets or -w's idle time passes
	}
	if errors.Is(err, relay.ErrIdle) {
		return fmt.Errorf("idle timeout expired (%d ms)", s.o.idle.Milliseconds())
	}
	if err != nil && ctx.Err() == nil {
		if s.o.asNcat && s.p.listen {
			return errReported // ncat's listener exits 1 without a word when its client resets
		}
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return errno // "Connection reset by peer.", as ncat says it
		}
	}
	return err
}

// runChild starts the -e/-c command for conn and waits for it. As in
// ncat, the child's exit decides, and neither its status nor the copy's
// error is reported.
func (s *session) runChild(ctx context.Context, cmd endpoint.Command, conn stream.Conn, f *serve.Session) error {
	switch {
	case s.o.luaExec != "":
		s.r.debugf("Executing as lua script: %s", s.o.luaExec)
	case cmd.Shell:
		s.r.debugf("Executing with shell: %s", strings.Join(cmd.Argv, " "))
	default:
		s.r.debugf("Executing: %s", strings.Join(cmd.Argv, " "))
	}
	_, err := serve.Exec(ctx, cmd, conn, relay.Options{Idle: s.o.idle}, f)
	return err
}

func (s *session) listen(ctx context.Context) error {
	if s.o.udp && s.o.keep && s.command() == nil && s.r.name == "Ncat" {
		// sockit answers every peer; ncat refuses, and so does its link.
		return usagef("UDP mode does not support the -k or --keep-open options, except with --exec or --sh-exec")
	}
	ln, err := endpoint.Listen(ctx, s.p.spec)
	if err != nil {
		// ncat's words and exit code 2, for scripts that match them.
		return &usageError{msg: fmt.Sprintf("bind to %s: %s", s.p.shown, capitalize(unwrapOp(err).Error())), verbatim: true}
	}
	defer ln.Close()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	acc, err := s.access(ctx, ln)
	if err != nil {
		return err
	}
	if fp, generated, ok := endpoint.TLSFingerprint(ln); ok && generated {
		s.r.logf("Generated a temporary certificate. Use --ssl-key and --ssl-cert to use a permanent one.")
		s.r.logf("SHA-256 fingerprint: %s (clients can trust it with --ssl-pin %s)", fp, fp)
	}
	s.voice().listening(s, ln.Addr())
	s.r.watch.Listening(ln.Addr())
	sv := s.server(acc)
	if !s.o.keep {
		sv.Once = true
		sv.Handle = func(ctx context.Context, c stream.Conn, f *serve.Session) error {
			fd, hasFD := fdOf(c)
			err := s.serve(ctx, c, s.stdio(), f)
			if hasFD && s.command() == nil { // a child's exit is its own line
				s.r.debugf("Closing fd %d.", fd)
			}
			return err
		}
		return sv.Serve(ctx, ln)
	}
	return s.keepOpen(ctx, ln, sv)
}

// server is the serve.Server of a listener: its access control and
// its -v lines.
func (s *session) server(acc *endpoint.Access) *serve.Server {
	return &serve.Server{Access: acc, Watch: s.r.watch, Accepted: s.logConn,
		Denied: func(peer net.Addr) {
			s.r.logf("Connection from %s.", endpoint.Addr(peer))
			s.r.logf("New connection denied: not allowed")
		},
		Refused: func(c stream.Conn, why string) {
			s.logConn(c)
			s.r.logf("New connection denied: %s", why)
		},
		Full: func(err error) { s.r.logf("accept: %v; waiting for a client to leave", err) },
	}
}

// access reads --allow and --deny for ln, and warns when a listener that
// runs commands is open to the network with no --allow.
func (s *session) access(ctx context.Context, ln endpoint.Listener) (*endpoint.Access, error) {
	allow, deny := s.o.allow, s.o.deny
	for _, f := range s.o.allowFiles {
		hosts, err := endpoint.ReadHostFile(f)
		if err != nil {
			return nil, usagef("allowfile: %v", err)
		}
		allow = append(allow, hosts...)
	}
	for _, f := range s.o.denyFiles {
		hosts, err := endpoint.ReadHostFile(f)
		if err != nil {
			return nil, usagef("denyfile: %v", err)
		}
		deny = append(deny, hosts...)
	}
	acc, err := endpoint.ParseAccess(ctx, allow, deny)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if s.command() != nil && len(allow) == 0 && !loopback(ln.Addr()) {
		s.r.errorf("WARNING: every client that reaches %s can run %q; restrict it with --allow.", endpoint.Addr(ln.Addr()), strings.Join(s.command().Argv, " "))
	}
	if s.o.proxyType != "" && len(allow) == 0 && !loopback(ln.Addr()) {
		s.r.errorf("WARNING: every client that reaches %s can use this %s proxy; restrict it with --allow.", endpoint.Addr(ln.Addr()), s.o.proxyType)
	}
	return acc, nil
}

// loopback reports whether a listener's address is reachable only from
// this machine.
func loopback(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UDPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

func (s *session) logConn(conn stream.Conn) { s.voice().accepted(s, conn) }

// voice is the personality's wording.
func (s *session) voice() voice {
	if s.r.voice == nil {
		return ncatVoice{}
	}
	return s.r.voice
}

// keepOpen accepts until the context ends. With -e/-c every client gets
// its own child; otherwise stdin goes to every client and what they send
// goes to stdout.
func (s *session) keepOpen(ctx context.Context, ln endpoint.Listener, sv *serve.Server) error {
	cmd := s.command()
	var proxy *proxyserver.Server
	if s.o.proxyType != "" {
		proxy = &proxyserver.Server{Type: s.o.proxyType, Auth: s.o.proxyAuth, Idle: s.o.idle, Network: "tcp",
			Logf: func(format string, a ...any) { s.r.logf(format, a...) }}
		switch {
		case s.o.v4:
			proxy.Network = "tcp4"
		case s.o.v6:
			proxy.Network = "tcp6"
		}
		if s.o.asNcat {
			proxy.Realm, proxy.Methods = "Ncat", []string{"GET", "HEAD", "POST"}
		}
	}
	var room *hub.Hub
	if s.o.broker {
		hopt := hub.Options{Chat: s.o.chat, FirstID: s.firstID(), Backlog: s.o.maxQueue, Grace: s.o.lagGrace,
			Mute: s.o.sendOnly, Logf: func(format string, a ...any) { s.r.errorf(format, a...) }}
		fed, err := s.federate(ln, &hopt)
		if err != nil {
			return err
		}
		if tap := s.r.watch.RoomTap(); tap != nil { // -o and -x log each broadcast once
			forward := hopt.Forward
			hopt.Forward = func(p []byte) {
				tap(p)
				if forward != nil {
					forward(p)
				}
			}
		}
		room = hub.New(hopt)
		if fed != nil {
			if err := fed.Start(room, s.o.chat); err != nil {
				fed.Close()
				return err
			}
			defer fed.Close()
		}
		if s.r.monitor != nil {
			s.r.monitor.WatchRoom(func() monitor.Room {
				st := room.Stats()
				r := monitor.Room{Clients: st.Clients, Lagging: st.Lagging, Queued: st.Queued, CutOff: st.CutOff}
				if fed != nil {
					f := fed.Stats()
					r.Federated = &monitor.Federated{Sent: f.Sent, SendDropped: f.SendDropped, Received: f.Received,
						ReceiveDropped: f.RecvDropped, Nodes: f.Nodes, Connected: f.Connected}
				}
				return r
			})
		}
		if !s.o.recvOnly {
			go room.Feed(s.r.stdin) //nolint:errcheck // stdin failing ends nothing here
		}
		defer room.Close()
	}
	sv.MaxConns, sv.RefuseAll = s.o.maxConns, s.o.asNcat && s.o.maxConnsSet && s.o.maxConns == 0
	sv.Proxy, sv.Hub = proxy, room
	sv.Stdin, sv.Stdout, sv.NoShutdown = s.r.stdin, s.r.stdout, s.o.noShutdown
	if cmd != nil {
		sv.Handle = func(ctx context.Context, c stream.Conn, f *serve.Session) error {
			return s.runChild(ctx, *cmd, c, f) // per-client; logged by the child
		}
	}
	return sv.Serve(ctx, ln)
}

// federate joins the room to the bus --federate names, if it does: it
// connects, and sets the hub's hooks.
func (s *session) federate(ln endpoint.Listener, hopt *hub.Options) (*federation.Room, error) {
	if s.o.federate == "" {
		return nil, nil
	}
	node := s.o.federateNode
	if node == "" {
		host, _ := os.Hostname()
		host, _, _ = strings.Cut(host, ".")
		_, port, _ := net.SplitHostPort(endpoint.Addr(ln.Addr()))
		node = strings.Trim(host+"-"+port, "-")
	}
	var tc *tls.Config
	if s.o.federateCA != "" {
		pem, err := os.ReadFile(s.o.federateCA)
		if err != nil {
			return nil, fmt.Errorf("--federate-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--federate-ca %s: no PEM certificate in it", s.o.federateCA)
		}
		tc = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	fed, err := federation.Dial(federation.Options{URL: s.o.federate, Room: s.o.room, Node: node, Creds: s.o.federateCreds,
		TLS: tc, Logf: func(format string, a ...any) { s.r.logf(format, a...) }})
	if err != nil {
		return nil, err
	}
	s.r.logf("Federating room %s over %s as node %s.", cmp.Or(s.o.room, federation.DefaultRoom), fed.URL(), node)
	hopt.Forward = fed.Forward
	if s.o.chat {
		hopt.Node, hopt.Others, hopt.Presence = node, fed.Others, fed.Presence
	}
	return fed, nil
}

// firstID is the chat id of the first client: ncat numbers clients by
// descriptor, and its first free one follows stdio and its listeners (two
// when it listens on every address, one IPv4 and one IPv6).
func (s *session) firstID() int {
	if !s.o.unix && !s.o.v4 && !s.o.v6 && strings.HasPrefix(s.p.shown, ":") {
		return 5
	}
	return 4
}

// dialError strips Go's "dial tcp a->b:" prefix to ncat's wording.
func dialError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("connection timed out")
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return usagef("could not resolve hostname %q: %s", dns.Name, dns.Err)
	}
	return unwrapOp(err)
}

// unwrapOp returns the syscall error inside a *net.OpError, so messages
// read "connection refused" as ncat's do.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		var se *os.SyscallError
		if errors.As(op.Err, &se) {
			return se.Err
		}
		return op.Err
	}
	return err
}

// fdOf is the descriptor of a socket conn, for -vv's lines.
func fdOf(c any) (int, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	raw.Control(func(f uintptr) { fd = int(f) }) //nolint:errcheck // fd stays -1
	return fd, fd >= 0
}
