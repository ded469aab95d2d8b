package cli

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/scan"
	"github.com/sockit/sockit/stream"
)

// traditionalOptstring is Debian's netcat 1.10 getopt string.
const traditionalOptstring = "bCc:e:g:G:hi:klno:p:q:rs:T:tuvw:z"

const traditionalHelp = `[v1.10, sockit %s]
connect to somewhere:	nc [-options] hostname port[s] [ports] ... 
listen for inbound:	nc -l -p port [-options] [hostname] [port]
options:
	-c shell commands	as ` + "`-e'" + `; use /bin/sh to exec [dangerous!!]
	-e filename		program to exec after connect [dangerous!!]
	-b			allow broadcasts
	-h			this cruft
	-i secs			delay interval for lines sent, ports scanned
	-k			set keepalive option on socket
	-l			listen mode, for inbound connects
	-n			numeric-only IP addresses, no DNS
	-o file			hex dump of traffic
	-p port			local port number
	-q secs			quit after EOF on stdin and delay of secs
	-s addr			local source address
	-T tos			set Type Of Service
	-u			UDP mode
	-v			verbose [use twice to be more verbose]
	-w secs			timeout for connects and final net reads
	-C			Send CRLF as line-ending
	-z			zero-I/O mode [used for scanning]
	--eof=POLICY		sockit's: wait, remote, stdin or drain:DURATION
port numbers can be individual or ranges: lo-hi [inclusive]
`

// parseTraditional reads a netcat 1.10 command line.
func parseTraditional(argv []string) (*ncatOptions, error) {
	argv, eof, err := splitEOFFlag(argv)
	if err != nil {
		return nil, err
	}
	opts, args, err := getopt(argv, traditionalOptstring)
	if err != nil {
		return nil, err
	}
	o := &ncatOptions{noShutdown: true, eof: eof}
	quit := -1
	secs := func(s string) (time.Duration, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, usagef("invalid interval %s", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	for _, op := range opts {
		if shared, err := netcatFlag(o, op); err != nil {
			return nil, err
		} else if shared {
			continue
		}
		switch op.c {
		case 'c':
			o.shExec = op.arg
		case 'e':
			o.exec = op.arg
		case 'h':
			o.help = true
		case 'i':
			d, err := secs(op.arg)
			if err != nil {
				return nil, err
			}
			o.delay = d
		case 'k':
			o.sockopts = append(o.sockopts, address.Option{Name: "keepalive", Value: "1"})
		case 'o':
			o.netcatDump = op.arg
		case 'q':
			n, err := strconv.Atoi(op.arg)
			if err != nil {
				return nil, usagef("invalid -q value %s", op.arg)
			}
			quit = n
		case 'w':
			d, err := secs(op.arg)
			if err != nil || d == 0 {
				return nil, usagef("invalid wait-time %s", op.arg)
			}
			o.wait = d
		case 'g', 'G', 't':
			return nil, usagef("-%c is not supported: %s", op.c, map[byte]string{
				'g': "Linux drops source-routed packets", 'G': "Linux drops source-routed packets",
				't': "TELNET negotiation is not implemented",
			}[op.c])
		}
	}
	o.args = args
	if o.help {
		return o, nil
	}
	if o.listen {
		// nc -l -p PORT [host [port]]: the operands name the one peer let in.
		switch len(args) {
		case 0:
		case 1:
			o.allow = []string{args[0]}
		default:
			return nil, usagef("a listener's peer port filter (%s) is not supported", args[1])
		}
		if o.sourcePort == "" {
			o.sourcePort = "0" // any free port, told at -v
		}
		o.args = nil
	} else if !o.zero {
		switch {
		case len(args) == 0:
			return nil, &getoptError{msg: "no destination"}
		case len(args) == 1:
			return nil, &getoptError{msg: "no port[s] to connect to"}
		case len(args) > 2:
			return nil, usagef("several ports are for -z; connect to one")
		}
	}
	// netcat 1.10 quits when the network's stream ends; with -q it also
	// shuts the socket down at stdin's EOF and quits N seconds later.
	terms := []string{"remote"}
	switch {
	case quit == 0:
		terms = append(terms, "stdin")
		o.noShutdown = false
	case quit > 0:
		terms = append(terms, "drain:"+strconv.Itoa(quit)+"s")
		o.noShutdown = false
	case o.wait > 0:
		terms = append(terms, "drain:"+o.wait.String()) // -w bounds the final net reads
	}
	o.eofDefault = strings.Join(terms, ",")
	return o, nil
}

// traditionalVoice is netcat 1.10's wording.
type traditionalVoice struct{}

// name is the peer's reverse name, which netcat looks up only with -v
// and without -n, else "(UNKNOWN)".
func (traditionalVoice) name(o *ncatOptions, ip string) string {
	if o.verbose > 0 && !o.noDNS {
		if n := reverseName(ip); n != "" {
			return n
		}
	}
	return "(UNKNOWN)"
}

func (traditionalVoice) service(o *ncatOptions, port string) string {
	proto := map[bool]string{false: "tcp", true: "udp"}[o.udp]
	if n := serviceName(port, proto); n != "" {
		return n
	}
	return "?"
}

func (traditionalVoice) listening(s *session, a net.Addr) {
	if s.o.verbose == 0 {
		return
	}
	host, port := hostPort(a)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "any"
	}
	s.r.say("listening on [%s] %s ...", host, port)
}

func (v traditionalVoice) accepted(s *session, c stream.Conn) {
	if s.o.verbose == 0 {
		return
	}
	local, _ := hostPort(c.LocalAddr())
	peer, port := hostPort(c.RemoteAddr())
	s.r.say("connect to [%s] from %s [%s] %s", local, v.name(s.o, peer), peer, port)
}

func (v traditionalVoice) connected(s *session, c stream.Conn) {
	if s.o.verbose == 0 {
		return
	}
	ip, port := hostPort(c.RemoteAddr())
	s.r.say("%s [%s] %s (%s) open", v.name(s.o, ip), ip, port, v.service(s.o, port))
}

func (traditionalVoice) summary(s *session, st relay.Stats) {
	if s.o.verbose >= 2 {
		s.r.say(" sent %d, rcvd %d", st.AToB, st.BToA)
	}
}

func (v traditionalVoice) dialFailed(s *session, err error) error {
	ip, port := s.p.spec.Args[0], s.p.spec.Args[1]
	if addrs, lerr := net.LookupHost(ip); lerr == nil && len(addrs) > 0 && net.ParseIP(ip) == nil {
		ip = addrs[0]
	}
	s.r.say("%s [%s] %s (%s) : %s", v.name(s.o, ip), ip, port, v.service(s.o, port), capitalize(unwrapOp(err).Error()))
	return errReported
}

func (v traditionalVoice) scanned(r *runner, o *ncatOptions, host string, res scan.Result) {
	if o.verbose == 0 {
		return
	}
	port := strconv.Itoa(res.Port)
	if res.State == scan.Closed {
		if o.verbose >= 2 {
			r.say("%s [%s] %s (%s) : %s", v.name(o, host), host, port, v.service(o, port), capitalize(unwrapOp(res.Err).Error()))
		}
		return
	}
	r.say("%s [%s] %s (%s) open", v.name(o, host), host, port, v.service(o, port))
}

func (traditionalVoice) scanDone(r *runner, o *ncatOptions) {
	if o.verbose >= 2 {
		r.say(" sent 0, rcvd 0") // a scan moves no data, and netcat says so
	}
}

func (traditionalVoice) descending() bool { return true } // netcat 1.10 probes from the highest port down
