package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/scan"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tlsconf"
)

// openbsdOptstring is Debian's nc.openbsd getopt string, plus the TLS
// letters of OpenBSD's own nc that Debian's build lacks (-c, -e, -H, -R;
// Debian keeps -C for CRLF, so there is no -C certificate file, and -K
// would have no certificate to go with).
const openbsdOptstring = "46bCcDde:FH:hI:i:klM:m:NnO:P:p:q:R:rSs:T:tUuV:vW:w:X:x:Zz"

const openbsdUsage = `usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]
	  [-m minttl] [-O length] [-P proxy_username] [-p source_port]
	  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]
	  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]
	  [destination] [port]
`

const openbsdHelp = `OpenBSD netcat (sockit %s)
` + openbsdUsage + `	Command Summary:
		-4		Use IPv4
		-6		Use IPv6
		-b		Allow broadcast
		-C		Send CRLF as line-ending
		-c		Use TLS (OpenBSD's -c; not in Debian's build)
		-D		Enable the debug socket option
		-d		Detach from stdin
		-e name		TLS: the name the server's certificate must carry
		-H hash		TLS: the server certificate's SHA-256 fingerprint
		-h		This help text
		-I length	TCP receive buffer length
		-i interval	Delay interval for lines sent, ports scanned
		-k		Keep inbound sockets open for multiple connects
		-l		Listen mode, for inbound connects
		-M ttl		Outgoing TTL / Hop Limit
		-N		Shutdown the network socket after EOF on stdin
		-n		Suppress name/port resolutions
		-O length	TCP send buffer length
		-P proxyuser	Username for proxy authentication
		-p port		Specify local port for remote connects
		-q secs		quit after EOF on stdin and delay of secs
		-R CAfile	TLS: CA certificates to verify the server with
		-r		Randomize remote ports
		-s sourceaddr	Local source address
		-T keyword	TOS value, or TLS keyword (noverify, noname)
		-U		Use UNIX domain socket
		-u		UDP mode
		-v		Verbose
		-w timeout	Timeout for connects and final net reads
		-X proto	Proxy protocol: "4", "5" (SOCKS) or "connect"
		-x addr[:port]	Specify proxy address and port
		-z		Zero-I/O mode [used for scanning]
	Port numbers can be individual or ranges: lo-hi [inclusive]
	--eof=POLICY	sockit's: wait, remote, stdin or drain:DURATION
`

// openbsdTOS are the names -T takes for IP_TOS values.
var openbsdTOS = map[string]int{
	"lowdelay": 0x10, "throughput": 0x08, "reliability": 0x04, "mincost": 0x02,
	"critical": 0xa0, "inetcontrol": 0xc0, "netcontrol": 0xe0, "ef": 0xb8,
	"af11": 0x28, "af12": 0x30, "af13": 0x38, "af21": 0x48, "af22": 0x50, "af23": 0x58,
	"af31": 0x68, "af32": 0x70, "af33": 0x78, "af41": 0x88, "af42": 0x90, "af43": 0x98,
	"cs0": 0x00, "cs1": 0x20, "cs2": 0x40, "cs3": 0x60, "cs4": 0x80, "cs5": 0xa0, "cs6": 0xc0, "cs7": 0xe0,
}

// splitEOFFlag takes sockit's --eof=POLICY out of a netcat command line
// that has no long options of its own.
func splitEOFFlag(argv []string) (rest []string, eof string, err error) {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return append(rest, argv[i:]...), eof, nil
		case strings.HasPrefix(a, "--eof="):
			eof = strings.TrimPrefix(a, "--eof=")
		case a == "--eof":
			if i+1 >= len(argv) {
				return nil, "", &getoptError{msg: "option '--eof' requires an argument"}
			}
			i++
			eof = argv[i]
		case strings.HasPrefix(a, "--"):
			return nil, "", &getoptError{msg: "invalid option -- '-'"} // short options only: getopt reads "--x" as -, -, x
		default:
			rest = append(rest, a)
		}
	}
	return rest, eof, nil
}

// parseOpenBSD reads an OpenBSD netcat command line into the options the
// session runs on.
func parseOpenBSD(argv []string) (*ncatOptions, error) {
	argv, eof, err := splitEOFFlag(argv)
	if err != nil {
		return nil, err
	}
	opts, args, err := getopt(argv, openbsdOptstring)
	if err != nil {
		return nil, err
	}
	o := &ncatOptions{noShutdown: true, eof: eof}
	quit := -1 // -q: negative waits forever
	var proxyProto, proxyAddr, proxyUser string
	num := func(c byte, s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, usagef("invalid -%c value %q", c, s)
		}
		return n, nil
	}
	for _, op := range opts {
		if shared, err := netcatFlag(o, op); err != nil {
			return nil, err
		} else if shared {
			continue
		}
		switch op.c {
		case '4':
			o.v4 = true
		case '6':
			o.v6 = true
		case 'c':
			o.ssl = true
		case 'D':
			o.sockopts = append(o.sockopts, address.Option{Name: "so-debug", Value: "1"})
		case 'd':
			o.noStdin = true
		case 'e':
			o.sslName = op.arg
		case 'H':
			o.sslPins = append(o.sslPins, "sha256:"+strings.TrimPrefix(strings.ToLower(op.arg), "sha256:"))
		case 'h':
			o.help = true
		case 'I', 'O':
			n, err := num(op.c, op.arg)
			if err != nil || n == 0 {
				return nil, usagef("TCP %s length %s is invalid", map[byte]string{'I': "receive", 'O': "send"}[op.c], op.arg)
			}
			o.sockopts = append(o.sockopts, address.Option{Name: map[byte]string{'I': "rcvbuf", 'O': "sndbuf"}[op.c], Value: op.arg})
		case 'i':
			n, err := num(op.c, op.arg)
			if err != nil {
				return nil, usagef("interval %s is invalid", op.arg)
			}
			o.delay = time.Duration(n) * time.Second
		case 'k':
			o.keep = true
		case 'M':
			n, err := num(op.c, op.arg)
			if err != nil || n > 255 {
				return nil, usagef("ttl is invalid: %s", op.arg)
			}
			o.sockopts = append(o.sockopts, address.Option{Name: "ip-ttl", Value: op.arg})
		case 'N':
			o.noShutdown = false
		case 'P':
			proxyUser = op.arg
		case 'q':
			n, err := strconv.Atoi(op.arg)
			if err != nil {
				return nil, usagef("quit timer %s is invalid", op.arg)
			}
			quit = n
		case 'R':
			o.sslTrust = op.arg
			o.sslVerify = true
		case 'U':
			o.unix = true
		case 'w':
			n, err := num(op.c, op.arg)
			if err != nil || n == 0 {
				return nil, usagef("timeout %s is invalid", op.arg)
			}
			o.wait = time.Duration(n) * time.Second
			o.idle = o.wait
		case 'X':
			proxyProto = strings.ToLower(op.arg)
		case 'x':
			proxyAddr = op.arg
		case 'F', 'm', 'S', 't', 'V', 'W', 'Z':
			return nil, usagef("-%c is not supported: %s", op.c, map[byte]string{
				'F': "sockit does not pass descriptors to its parent",
				'm': "Linux has no minimum incoming TTL for IPv4 sockets (IP_MINTTL)",
				'S': "TCP MD5 signatures need a key the kernel is given by other means",
				't': "TELNET negotiation is not implemented",
				'V': "routing tables are OpenBSD's; on Linux use ip vrf exec",
				'W': "a receive limit in packets is not implemented",
				'Z': "the kernel has no DCCP",
			}[op.c])
		}
	}
	o.args = args
	if o.help {
		return o, nil
	}
	if proxyAddr != "" || proxyProto != "" {
		if err := openbsdProxy(o, proxyProto, proxyAddr, proxyUser); err != nil {
			return nil, err
		}
	}
	if o.udp && o.verbose > 0 {
		// nc's udptest: five datagrams of "X" tell whether the port
		// refuses, with -z and on any -v connect.
		o.udpProbe = [][]byte{[]byte("X"), []byte("X"), []byte("X"), []byte("X"), []byte("X")}
	}
	if o.zero && o.udp && o.verbose == 0 {
		o.udpProbe = [][]byte{}
	}
	// OpenBSD nc's listener quits when its client's stream ends.
	var terms []string
	if o.listen && !o.keep {
		terms = append(terms, "remote")
	}
	if quit >= 0 {
		// Debian's -q shuts the socket down at stdin's EOF, as -N does, and
		// over TCP still waits for the network's EOF (then N seconds more,
		// which sockit does not wait); UDP has no EOF, so it quits N
		// seconds after stdin's.
		o.noShutdown = false
		if o.udp {
			terms = append(terms, "drain:"+strconv.Itoa(quit)+"s")
		}
	}
	if o.udp {
		o.noShutdown = true // no empty datagram for an EOF: nc sends none
	}
	o.eofDefault = strings.Join(terms, ",")
	if !o.unix && !o.zero {
		if err := openbsdOperands(o); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// openbsdOperands checks the destination and port as nc does.
func openbsdOperands(o *ncatOptions) error {
	switch {
	case o.listen && len(o.args) == 0 && o.sourcePort == "":
		return usagef("missing port number")
	case !o.listen && len(o.args) == 0:
		return &getoptError{} // nc prints its usage alone
	case !o.listen && len(o.args) == 1:
		return usagef("missing port number")
	case len(o.args) > 2 && o.listen:
		return &getoptError{}
	}
	return nil
}

// openbsdPorts returns the ports of a connect that names more than one
// ("nc host 80 443", "nc host 8000-8010"), which Debian's nc tries in
// turn, or nil for one port.
func openbsdPorts(o *ncatOptions) ([]string, error) {
	if o.listen || o.zero || o.unix || len(o.args) < 2 {
		return nil, nil
	}
	list := strings.Join(o.args[1:], ",")
	if len(o.args) == 2 && !strings.ContainsAny(list, "-,") {
		return nil, nil
	}
	var out []string // in the order given, repeats kept, as nc tries them
	for _, arg := range o.args[1:] {
		ports, err := scan.ParsePorts(arg)
		if err != nil {
			return nil, usagef("%v", err)
		}
		for _, p := range ports {
			out = append(out, strconv.Itoa(p))
		}
	}
	return out, nil
}

// eachPort connects to each port in turn, as Debian's nc does: a session
// with every one that answers (stdin goes to the first; the next ones see
// it at its end), the voice's line for every one that does not. It
// succeeds when one answered.
func (r *runner) eachPort(ctx context.Context, o *ncatOptions, ports []string) error {
	answered := false
	stdin, stdout := r.stdin, r.stdout
	defer func() { r.stdin, r.stdout = stdin, stdout }()
	for _, port := range ports {
		one := *o
		one.args = []string{o.args[0], port}
		// Each session closes its own copies of stdin and stdout.
		r.stdin, r.stdout = endpoint.Dup(stdin), endpoint.Dup(stdout)
		err := r.run(ctx, &one)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err == nil:
			answered = true
		case !errors.Is(err, errReported):
			return err // not this port's failure: a bad name, a bad option
		}
	}
	if !answered {
		return errReported
	}
	return nil
}

// openbsdKeyword applies -T: a TOS name or number, or a TLS keyword.
func openbsdKeyword(o *ncatOptions, kw string) error {
	switch k := strings.ToLower(kw); {
	case k == "noverify":
		o.sslInsecure = true
		return nil
	case k == "noname":
		o.sslName = "" // verification without a name: pin or CA only
		return nil
	case strings.HasPrefix(k, "ciphers="):
		o.sslCiphers = kw[len("ciphers="):]
		return nil
	}
	if v, ok := openbsdTOS[strings.ToLower(kw)]; ok {
		o.sockopts = append(o.sockopts, address.Option{Name: "ip-tos", Value: strconv.Itoa(v)})
		return nil
	}
	n, err := strconv.ParseInt(kw, 0, 16)
	if err != nil || n < 0 || n > 255 {
		return usagef("invalid keyword %q", kw)
	}
	o.sockopts = append(o.sockopts, address.Option{Name: "ip-tos", Value: strconv.Itoa(int(n))})
	return nil
}

// openbsdProxy turns -X, -x and -P into sockit's proxy chain.
func openbsdProxy(o *ncatOptions, proto, addr, user string) error {
	if addr == "" {
		return usagef("no proxy address given")
	}
	scheme, port := "socks5", "1080"
	switch proto {
	case "", "5":
	case "4":
		scheme = "socks4"
	case "connect":
		scheme, port = "http", "3128"
	default:
		return usagef("unknown proxy protocol %s", proto)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), port)
	}
	if user != "" && scheme != "http" {
		return usagef("proxy user names are for -X connect")
	}
	o.proxies = append(o.proxies, addr)
	o.proxyType = scheme
	o.proxyUser = user // its password is asked on the terminal when the proxy wants it
	o.proxyDNS = "remote"
	return nil
}

// readProxyPassword asks for -P's password on the terminal, as nc does.
func readProxyPassword(user, proxy string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", usagef("unable to read proxy passphrase: %v", err)
	}
	defer tty.Close()
	// Not echoed, as readpassphrase(3) reads it: echo goes off before
	// the prompt shows, and what was typed before it is dropped.
	if restore := noEcho(tty); restore != nil {
		defer func() {
			fmt.Fprint(tty, "\n")
			restore()
		}()
	}
	fmt.Fprintf(tty, "Proxy password for %s@%s: ", user, proxy)
	buf := make([]byte, 1024)
	n, err := tty.Read(buf)
	if err != nil {
		return "", usagef("unable to read proxy passphrase: %v", err)
	}
	return strings.TrimRight(string(buf[:n]), "\r\n"), nil
}

// openbsdVoice is OpenBSD netcat's wording.
type openbsdVoice struct{}

// name is what nc prints for an address: its reverse name unless -n.
func (openbsdVoice) name(s *session, ip string) string {
	if s.o.noDNS {
		return ip
	}
	if n := reverseName(ip); n != "" {
		return n
	}
	return ip
}

func (v openbsdVoice) listening(s *session, a net.Addr) {
	if s.o.verbose == 0 {
		return
	}
	host, port := hostPort(a)
	switch a.(type) {
	case *net.UnixAddr:
		s.r.say("Bound on %s", host)
		if !s.o.udp {
			s.r.say("Listening on %s", host)
		}
		return
	case *net.UDPAddr:
		s.r.say("Bound on %s %s", v.name(s, host), port)
		return
	}
	s.r.say("Listening on %s %s", v.name(s, host), port)
}

func (v openbsdVoice) accepted(s *session, c stream.Conn) {
	if s.o.verbose == 0 {
		return
	}
	if _, ok := c.LocalAddr().(*net.UnixAddr); ok {
		host, _ := hostPort(c.LocalAddr())
		s.r.say("Connection received on %s", host)
		return
	}
	host, port := hostPort(c.RemoteAddr())
	s.r.say("Connection received on %s %s", v.name(s, host), port)
}

func (openbsdVoice) connected(s *session, c stream.Conn) {
	if s.o.verbose == 0 || s.o.unix {
		return
	}
	_, port := hostPort(c.RemoteAddr())
	proto := strings.ToLower(s.p.proto)
	svc := "*"
	if !s.o.noDNS {
		if n := serviceName(port, proto); n != "" {
			svc = n
		}
	}
	s.r.say("Connection to %s %s port [%s/%s] succeeded!", s.p.spec.Args[0], port, proto, svc)
}

func (openbsdVoice) summary(*session, relay.Stats) {}

func (openbsdVoice) dialFailed(s *session, err error) error {
	if s.o.unix {
		s.r.errorf("%s: %s", s.p.shown, capitalize(unwrapOp(err).Error()))
		return errReported
	}
	host, port := s.p.spec.Args[0], s.p.spec.Args[1]
	shown := host
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		if ip, _ := hostPort(op.Addr); ip != host && net.ParseIP(host) == nil {
			shown = host + " (" + ip + ")"
		}
	}
	if tlsFailure(err) {
		s.r.errorf("tls handshake failed (%s)", err) // said with or without -v, as OpenBSD's nc
		return errReported
	}
	if openbsdProxyFailed(s, err) {
		return errReported
	}
	if pe := (*endpoint.ProxyDialError)(nil); errors.As(err, &pe) {
		host, port, _ = net.SplitHostPort(pe.Proxy) // nc names the proxy it could not reach
		shown, err = host, pe.Err
	}
	if s.o.verbose == 0 {
		return errReported // nc says why a connect failed only with -v
	}
	verb, why := "failed", capitalize(unwrapOp(err).Error())
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		verb, why = "timed out", "Operation now in progress"
	}
	s.r.errorf("connect to %s port %s (%s) %s: %s", shown, port, strings.ToLower(s.p.proto), verb, why)
	return errReported
}

// openbsdProxyFailed says a proxy's refusal in nc's words, with or
// without -v as nc says them, and reports whether err was one.
func openbsdProxyFailed(s *session, err error) bool {
	var se *endpoint.StatusError
	var ke *endpoint.SocksError
	switch {
	case errors.Is(err, endpoint.ErrTooManyAuthFailures):
		s.r.say("Proxy authentication failed")
		s.r.errorf("Too many authentication failures")
	case errors.As(err, &se):
		s.r.errorf("Proxy error: \"%s %s\"", se.Proto, se.Status)
	case errors.As(err, &ke):
		s.r.errorf("connection failed, SOCKSv%d error: %s", ke.Version, openbsdSocksError(ke))
	default:
		return false
	}
	return true
}

// openbsdSocksError is nc's socks4_strerror and socks5_strerror.
func openbsdSocksError(e *endpoint.SocksError) string {
	v4 := map[int]string{90: "Succeeded", 91: "Request rejected or failed",
		92: "SOCKS server cannot connect to identd on the client",
		93: "Client program and identd report different user-ids"}
	v5 := []string{"Succeeded", "General SOCKS server failure", "Connection not allowed by ruleset",
		"Network unreachable", "Host unreachable", "Connection refused", "TTL expired",
		"Command not supported", "Address type not supported"}
	switch {
	case e.Version == 4 && v4[e.Code] != "":
		return v4[e.Code]
	case e.Version == 5 && e.Code < len(v5):
		return v5[e.Code]
	}
	return "Unknown error"
}

func (v openbsdVoice) scanned(r *runner, o *ncatOptions, host string, res scan.Result) {
	if o.verbose == 0 {
		return
	}
	proto := map[bool]string{false: "tcp", true: "udp"}[o.udp]
	port := strconv.Itoa(res.Port)
	if res.State == scan.Closed {
		r.errorf("connect to %s port %s (%s) failed: %s", host, port, proto, capitalize(unwrapOp(res.Err).Error()))
		return
	}
	svc := "*"
	if !o.noDNS {
		if n := serviceName(port, proto); n != "" {
			svc = n
		}
	}
	r.say("Connection to %s %s port [%s/%s] succeeded!", host, port, proto, svc)
}

func (openbsdVoice) scanDone(*runner, *ncatOptions) {}

func (openbsdVoice) descending() bool { return false }

// tlsFailure reports whether a connect failed in its TLS handshake
// (a certificate refused, or an alert) rather than on the network.
func tlsFailure(err error) bool {
	var verify *tlsconf.VerifyError
	var alert tls.AlertError
	var rec tls.RecordHeaderError
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &rec)
}
