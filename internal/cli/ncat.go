package cli

import (
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/hub"
	"github.com/sockit/sockit/internal/luaexec"
)

// defaultPort is ncat's port when none is given.
const defaultPort = "31337"

// ncatOptions are the parsed ncat flags.
type ncatOptions struct {
	listen, keep, udp, unix, noDNS, v4, v6        bool
	crlf, sendOnly, recvOnly, noShutdown, version bool
	help, appendOutput, progress                  bool
	verbose, maxConns, backlog                    int
	sourcePort, source, exec, shExec, luaExec     string
	output, hexDump, eof                          string
	watch                                         watchFlags // --json, --capture, --keylog, --monitor...
	wait, idle, delay                             time.Duration
	args                                          []string
	badTime                                       error // a refused -w/-i/-d value, in ncat's words

	// TLS
	ssl, sslVerify, sslInsecure                             bool
	sslCert, sslKey, sslTrust, sslCiphers, sslName, sslALPN string
	sslPins                                                 []string

	zero bool // -z: scan

	// broker and chat
	broker, chat, maxConnsSet bool
	maxQueue                  int
	lagGrace                  time.Duration
	// --federate and its kin: the room shared over NATS
	federate, room, federateNode, federateCreds, federateCA string

	// proxy client
	proxies                        []string
	proxyType, proxyAuth, proxyDNS string

	// access control
	allow, allowFiles, deny, denyFiles []string
	asNcat                             bool // ncat's defaults: no verification unless --ssl-verify

	// what the nc personalities set
	eofDefault string           // the personality's EOF policy, when --eof is not given
	noStdin    bool             // nc -d: never read stdin
	sockopts   []address.Option // socket options (-I, -O, -M, -T, -b, -D, -k)
	udpProbe   [][]byte         // what -u -z sends
	netcatDump string           // nc.traditional -o: its hex dump's file
	proxyUser  string           // nc -P: a proxy user whose password nc asks for
}

func newNcatFlags(o *ncatOptions) *pflag.FlagSet {
	o.lagGrace = hub.DefaultGrace
	fs := pflag.NewFlagSet("ncat", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	fs.BoolVarP(&o.listen, "listen", "l", false, "bind and listen for incoming connections")
	fs.BoolVarP(&o.keep, "keep-open", "k", false, "accept multiple connections in listen mode")
	fs.BoolVarP(&o.udp, "udp", "u", false, "use UDP instead of TCP")
	fs.BoolVarP(&o.unix, "unixsock", "U", false, "use Unix domain sockets")
	fs.BoolVarP(&o.noDNS, "nodns", "n", false, "do not resolve hostnames")
	fs.BoolVarP(&o.v4, "ipv4", "4", false, "use IPv4 only")
	fs.BoolVarP(&o.v6, "ipv6", "6", false, "use IPv6 only")
	fs.BoolVarP(&o.crlf, "crlf", "C", false, "use CRLF for EOL sequence")
	fs.CountVarP(&o.verbose, "verbose", "v", "set verbosity level (can be used several times)")
	fs.IntVarP(&o.maxConns, "max-conns", "m", 100, "maximum simultaneous connections")
	fs.IntVar(&o.backlog, "backlog", 0, "listen backlog (default: the system's maximum)")
	fs.StringVarP(&o.sourcePort, "source-port", "p", "", "specify source port to use")
	fs.StringVarP(&o.source, "source", "s", "", "specify source address to use")
	fs.StringVarP(&o.exec, "exec", "e", "", "executes the given command")
	fs.StringVarP(&o.shExec, "sh-exec", "c", "", "executes the given command via /bin/sh")
	fs.StringVar(&o.luaExec, "lua-exec", "", "executes the given Lua script")
	fs.StringVarP(&o.output, "output", "o", "", "dump session data to a file")
	fs.StringVarP(&o.hexDump, "hex-dump", "x", "", "dump session data as hex to a file")
	fs.BoolVar(&o.appendOutput, "append-output", false, "append rather than clobber specified output files")
	fs.BoolVar(&o.sendOnly, "send-only", false, "only send data, ignoring received; quit on EOF")
	fs.BoolVar(&o.recvOnly, "recv-only", false, "only receive data, never send anything")
	fs.BoolVar(&o.progress, "progress", false, "show bytes each way, their rate and (stdin a file) an ETA on stderr, when it is a terminal")
	fs.AddFlagSet(o.watch.flagSet())
	fs.StringVar(&o.eof, "eof", "", "when the session ends: wait (both streams done; sockit's default), remote (the peer's stream ends; ncat's listener), stdin (stdin ends), drain:DURATION (that long after stdin ends)")
	fs.BoolVar(&o.noShutdown, "no-shutdown", false, "do not shutdown into half-duplex mode on receiving EOF on stdin")
	fs.VarP(durationValue{&o.wait, "w", "timeout", &o.badTime}, "wait", "w", "connect timeout")
	fs.VarP(durationValue{&o.idle, "i", "timeout", &o.badTime}, "idle-timeout", "i", "idle read/write timeout")
	fs.VarP(durationValue{&o.delay, "d", "delay", &o.badTime}, "delay", "d", "wait between read/writes")
	fs.StringArrayVar(&o.allow, "allow", nil, "allow only these hosts to connect (addresses, CIDR, 10.0.0.1-50, names)")
	fs.StringArrayVar(&o.allowFiles, "allowfile", nil, "a file of hosts allowed to connect")
	fs.StringArrayVar(&o.deny, "deny", nil, "deny these hosts")
	fs.StringArrayVar(&o.denyFiles, "denyfile", nil, "a file of hosts denied")
	fs.BoolVar(&o.broker, "broker", false, "enable connection brokering mode: what a client sends goes to every other client")
	fs.BoolVar(&o.chat, "chat", false, "start a simple chat server (ncat's: <userN> ids, join and leave notices)")
	fs.Var(sizeValue{&o.maxQueue}, "max-queue", "broker/chat: bytes queued for a slow client before it is cut off (default 1M)")
	fs.Var(durationValue{&o.lagGrace, "-lag-grace", "time", &o.badTime}, "lag-grace", "broker/chat: how long senders wait for a lagging client before leaving it behind")
	fs.StringVar(&o.federate, "federate", "", "broker/chat: one room with every broker on these NATS servers (nats://[USER:PASS@]HOST:PORT, tls://..., comma-separated)")
	fs.StringVar(&o.room, "room", "", "broker/chat: the federated room's name (default sockit)")
	fs.StringVar(&o.federateNode, "federate-node", "", "chat: this broker's name in ids, <user5@NAME>, unique in the room (default HOST-PORT)")
	fs.StringVar(&o.federateCreds, "federate-creds", "", "a NATS credentials file for --federate")
	fs.StringVar(&o.federateCA, "federate-ca", "", "trust the tls:// NATS servers this CA file signed (default: the system's roots)")
	fs.BoolVarP(&o.zero, "zero", "z", false, "zero-I/O mode: report which ports are open (host PORTS, e.g. 20-25,80)")
	fs.StringArrayVar(&o.proxies, "proxy", nil, "connect through this proxy, host[:port]; repeat for a chain, tried in order")
	fs.StringVar(&o.proxyType, "proxy-type", "", `proxy type: "http", "socks4" or "socks5" (default http)`)
	fs.StringVar(&o.proxyAuth, "proxy-auth", "", "user:password for the proxy (Basic for HTTP; SOCKS5 user/password; SOCKS4 user)")
	fs.StringVar(&o.proxyDNS, "proxy-dns", "", `where to resolve the destination: "local", "remote" (default), "both" or "none"`)
	fs.BoolVar(&o.ssl, "ssl", false, "connect or listen with TLS")
	fs.StringVar(&o.sslCert, "ssl-cert", "", "PEM certificate (listen: the server's; connect: a client certificate)")
	fs.StringVar(&o.sslKey, "ssl-key", "", "PEM private key for --ssl-cert")
	fs.StringVar(&o.sslTrust, "ssl-trustfile", "", "PEM CA certificates to trust besides the system's (listen: require client certificates)")
	fs.BoolVar(&o.sslVerify, "ssl-verify", false, "verify the server (sockit always does, unless --ssl-insecure)")
	fs.BoolVar(&o.sslInsecure, "ssl-insecure", false, "do not verify the server: anyone on the path can read and change the session")
	fs.StringArrayVar(&o.sslPins, "ssl-pin", nil, "trust a server certificate by its fingerprint, sha256:<hex> (repeatable)")
	fs.StringVar(&o.sslCiphers, "ssl-ciphers", "", "TLS 1.2 cipher suites (Go names, colon-separated)")
	fs.StringVar(&o.sslName, "ssl-servername", "", "the name to send as SNI and to verify (default: the host)")
	fs.StringVar(&o.sslALPN, "ssl-alpn", "", "ALPN protocols to offer or accept, comma-separated")
	fs.BoolVarP(&o.help, "help", "h", false, "display this help screen")
	fs.BoolVar(&o.version, "version", false, "display version information and exit")
	return fs
}

// parseNcat parses argv (without the program name).
func parseNcat(argv []string) (*ncatOptions, error) {
	o := &ncatOptions{}
	fs := newNcatFlags(o)
	argv, err := expandLong(fs, argv)
	if err != nil {
		return nil, err
	}
	if err := fs.Parse(argv); err != nil {
		if o.badTime != nil {
			return nil, o.badTime
		}
		if g, ok := getoptWords(err); ok {
			return nil, g
		}
		return nil, usagef("%s; try 'sockit --help'", err)
	}
	o.args = fs.Args()
	o.maxConnsSet = fs.Changed("max-conns")
	return o, nil
}

// expandLong rewrites unique prefixes of long options to the full name,
// as getopt_long (and so ncat) accepts them: --keep → --keep-open.
func expandLong(fs *pflag.FlagSet, argv []string) ([]string, error) {
	out := make([]string, 0, len(argv))
	for i, a := range argv {
		if a == "--" {
			return append(out, argv[i:]...), nil
		}
		if !strings.HasPrefix(a, "--") {
			out = append(out, a)
			continue
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		if fs.Lookup(name) == nil {
			var match []string
			fs.VisitAll(func(f *pflag.Flag) {
				if strings.HasPrefix(f.Name, name) {
					match = append(match, f.Name)
				}
			})
			switch len(match) {
			case 0:
				return nil, &getoptError{msg: "unrecognized option '--" + name + "'", unknown: "--" + name}
			case 1:
				name = match[0]
			default:
				return nil, &getoptError{msg: "option '--" + name + "' is ambiguous; possibilities: '--" + strings.Join(match, "' '--") + "'"}
			}
		}
		if hasVal {
			out = append(out, "--"+name+"="+val)
		} else {
			out = append(out, "--"+name)
		}
	}
	return out, nil
}

// plan is what the flags ask for: one address and a mode.
type plan struct {
	spec   address.Spec
	listen bool
	proto  string
	shown  string // the address as messages print it
}

// buildSpec turns ncat's positionals and flags into an address.Spec.
func buildSpec(o *ncatOptions) (plan, error) {
	p := plan{listen: o.listen, proto: "TCP"}
	if o.udp {
		p.proto = "UDP"
	}
	args := o.args
	if o.v4 && o.v6 {
		return p, usagef("cannot use both -4 and -6")
	}
	if o.sendOnly && o.recvOnly {
		return p, usagef("cannot use both --send-only and --recv-only")
	}
	if !o.listen && o.keep && !o.broker {
		return p, usagef("Invalid option combination: `--keep-open' with connect")
	}
	if !o.listen && (len(o.allow)+len(o.allowFiles)+len(o.deny)+len(o.denyFiles)) > 0 {
		return p, usagef("Invalid option combination: allow/deny with connect")
	}
	if (o.sslCert == "") != (o.sslKey == "") {
		return p, usagef("The --ssl-key and --ssl-cert options must be used together")
	}
	if n := countSet(o.exec, o.shExec, o.luaExec); n > 1 {
		return p, usagef("only one of --exec, --sh-exec, and --lua-exec is allowed")
	}
	if o.luaExec != "" {
		if err := luaexec.Check(o.luaExec); err != nil {
			return p, usagef("error loading the Lua script: %v", err)
		}
	}
	if o.unix {
		if len(args) != 1 {
			return p, usagef("you must specify a path to a socket to %s", map[bool]string{true: "listen on", false: "connect to"}[o.listen])
		}
		kind := address.UnixConnect
		switch {
		case o.listen && o.udp:
			kind = address.UnixRecvfrom
		case o.listen:
			kind = address.UnixListen
		case o.udp:
			kind = address.UnixSendto
		}
		p.spec = address.Spec{Kind: kind, Args: []string{args[0]}}
		if kind == address.UnixSendto && o.source != "" {
			// -s names the client's own socket, so the server can answer it.
			p.spec.Options = append(p.spec.Options, address.Option{Name: "bind", Value: o.source})
		}
		if o.listen && o.keep {
			p.spec.Options = []address.Option{{Name: "fork"}}
		}
		p.shown = args[0]
		return p, nil
	}
	var host, port string
	switch len(args) {
	case 0:
	case 1:
		if o.listen && isPort(args[0]) {
			port = args[0]
		} else {
			host = args[0]
		}
	case 2:
		host, port = args[0], args[1]
	default:
		return p, usagef("got more than one port specification: %s", strings.Join(args[1:], " "))
	}
	if port != "" && !isPort(port) {
		return p, usagef("invalid port number %q", port)
	}
	if o.sourcePort != "" && !isPort(o.sourcePort) {
		if _, err := strconv.Atoi(o.sourcePort); err != nil {
			return p, usagef("invalid source port number %q", o.sourcePort)
		}
		return p, usagef("invalid source port %s", o.sourcePort)
	}
	if o.listen && o.sourcePort != "" {
		if port != "" {
			return p, usagef("got more than one port specification: %s %s", o.sourcePort, port)
		}
		port = o.sourcePort
	}
	if port == "" {
		port = defaultPort
	}
	if !o.listen && host == "" {
		return p, usagef("you must specify a host to connect to")
	}
	if host != "" && o.noDNS && net.ParseIP(strings.Trim(host, "[]")) == nil {
		return p, usagef("could not resolve hostname %q: Name or service not known", host)
	}
	var opts []address.Option
	if o.v4 {
		opts = append(opts, address.Option{Name: "pf", Value: "ip4"})
	}
	if o.v6 {
		opts = append(opts, address.Option{Name: "pf", Value: "ip6"})
	}
	if o.listen {
		if host == "" && o.source != "" {
			host = o.source
		}
		if host != "" {
			opts = append(opts, address.Option{Name: "bind", Value: host})
		}
		if o.keep {
			opts = append(opts, address.Option{Name: "fork"})
		}
		if o.backlog > 0 {
			opts = append(opts, address.Option{Name: "backlog", Value: strconv.Itoa(o.backlog)})
		}
		kind := address.TCPListen
		if o.udp {
			kind = address.UDPListen
		}
		p.spec = address.Spec{Kind: kind, Args: []string{port}, Options: opts}
		if err := addTLS(o, &p.spec); err != nil {
			return p, err
		}
		p.shown = net.JoinHostPort(strings.Trim(host, "[]"), port)
		return p, nil
	}
	if o.source != "" || o.sourcePort != "" {
		sport := o.sourcePort
		if sport == "" {
			sport = "0"
		}
		opts = append(opts, address.Option{Name: "bind", Value: net.JoinHostPort(strings.Trim(o.source, "[]"), sport)})
	}
	kind := address.TCP
	if o.udp {
		kind = address.UDP
	}
	p.spec = address.Spec{Kind: kind, Args: []string{host, port}, Options: opts}
	if err := addTLS(o, &p.spec); err != nil {
		return p, err
	}
	p.shown = net.JoinHostPort(strings.Trim(host, "[]"), port)
	if err := addProxies(o, &p.spec); err != nil {
		return p, err
	}
	return p, nil
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 0 && n <= 65535
}

// addTLS turns a TCP spec into OPENSSL or OPENSSL-LISTEN when a TLS flag
// is given. sockit verifies servers unless --ssl-insecure; invoked as
// ncat, it keeps ncat's default (no verification unless --ssl-verify).
func addTLS(o *ncatOptions, sp *address.Spec) error {
	if o.sslCert != "" || o.sslKey != "" || o.sslTrust != "" || o.sslVerify || o.sslInsecure ||
		len(o.sslPins) > 0 || o.sslCiphers != "" || o.sslName != "" || o.sslALPN != "" {
		o.ssl = true
	}
	if !o.ssl {
		return nil
	}
	if o.udp {
		return usagef("TLS over UDP (DTLS) is not supported")
	}
	if o.sslVerify && o.sslInsecure {
		return usagef("cannot use both --ssl-verify and --ssl-insecure")
	}
	add := func(name, value string) {
		if value != "" {
			sp.Options = append(sp.Options, address.Option{Name: name, Value: value})
		}
	}
	if sp.Kind == address.TCPListen {
		sp.Kind = address.OpenSSLListen
	} else {
		sp.Kind = address.OpenSSL
		add("commonname", o.sslName)
		for _, p := range o.sslPins {
			add("pin", p)
		}
	}
	verify := !o.sslInsecure && (!o.asNcat || o.sslVerify || len(o.sslPins) > 0)
	if !verify {
		add("verify", "0")
	}
	add("cert", o.sslCert)
	add("key", o.sslKey)
	add("cafile", o.sslTrust)
	add("ciphers", o.sslCiphers)
	for _, a := range strings.Split(o.sslALPN, ",") {
		add("alpn", strings.TrimSpace(a))
	}
	return nil
}

// addProxies turns --proxy (repeatable, a chain tried in order),
// --proxy-type, --proxy-auth and --proxy-dns into via options.
func addProxies(o *ncatOptions, sp *address.Spec) error {
	if len(o.proxies) == 0 {
		if o.proxyType != "" || o.proxyAuth != "" || o.proxyDNS != "" {
			return usagef("--proxy-type, --proxy-auth and --proxy-dns need --proxy")
		}
		return nil
	}
	if o.udp {
		return usagef("UDP through a proxy is not supported")
	}
	typ := o.proxyType
	switch typ {
	case "":
		typ = "http"
	case "http", "socks4", "socks5":
	default:
		if o.asNcat {
			return usagef("invalid proxy type %q", typ)
		}
		return usagef("invalid proxy type %q (want http, socks4 or socks5)", typ)
	}
	switch o.proxyDNS {
	case "", "local", "remote", "both", "none":
	default:
		return usagef("invalid proxy DNS type %q; want local, remote, both or none", o.proxyDNS)
	}
	for _, p := range o.proxies {
		u := url.URL{Scheme: typ, Host: p}
		if o.proxyAuth != "" {
			user, pass, _ := strings.Cut(o.proxyAuth, ":")
			u.User = url.UserPassword(user, pass)
		} else if o.proxyUser != "" {
			u.User = url.User(o.proxyUser) // its password is asked for when the proxy wants it
		}
		sp.Options = append(sp.Options, address.Option{Name: "via", Value: u.String()})
	}
	if o.proxyDNS != "" {
		sp.Options = append(sp.Options, address.Option{Name: "proxy-dns", Value: o.proxyDNS})
	}
	return nil
}

// execs says whether a command runs per connection (-e, -c, --lua-exec).
func (o *ncatOptions) execs() bool { return o.exec != "" || o.shExec != "" || o.luaExec != "" }

// countSet counts the values that are not empty.
func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}
