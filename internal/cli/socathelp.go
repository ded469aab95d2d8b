package cli

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sockit/sockit/address"
)

// features are socat's WITH_* build features in socat's -V order, each
// with what decides it: an address type (on when sockit opens it), an
// option (on when sockit takes it), or a fixed answer for features that
// are no address or option. -V derives its list from the same tables the
// parser uses, so it cannot claim what sockit does not do.
var features = []struct {
	name, addr, opt string
	fixed           int // 1 on, -1 off, 0 decided by addr or opt
}{
	{"STDIO", "stdio", "", 0}, {"FDNUM", "fd", "", 0}, {"FILE", "open", "", 0}, {"CREAT", "create", "", 0},
	{"GOPEN", "gopen", "", 0}, {"TERMIOS", "", "b9600", 0}, {"PIPE", "pipe", "", 0}, {"UNIX", "unix-connect", "", 0},
	{"ABSTRACT_UNIXSOCKET", "abstract-connect", "", 0}, {"IP4", "tcp4-connect", "", 0}, {"IP6", "tcp6-connect", "", 0},
	{"RAWIP", "ip-sendto", "", 0}, {"GENERICSOCKET", "socket-connect", "", 0}, {"INTERFACE", "interface", "", 0},
	{"TCP", "tcp-connect", "", 0}, {"UDP", "udp-connect", "", 0}, {"SCTP", "sctp-connect", "", 0},
	{"LISTEN", "tcp-listen", "", 0}, {"SOCKS4", "socks4", "", 0}, {"SOCKS4A", "socks4a", "", 0},
	{"VSOCK", "vsock-connect", "", 0}, {"PROXY", "proxy", "", 0}, {"SYSTEM", "system", "", 0}, {"EXEC", "exec", "", 0},
	{"READLINE", "readline", "", 0}, {"TUN", "tun", "", 0}, {"PTY", "pty", "", 0}, {"OPENSSL", "openssl", "", 0},
	{"FIPS", "", "", -1}, {"LIBWRAP", "", "tcpwrap", 0}, {"SYCLS", "", "", -1}, {"FILAN", "", "", 1},
	{"RETRY", "", "retry", 0},
}

// featureOn says whether sockit has one of socat's build features.
func featureOn(addr, opt string, fixed int) bool {
	switch {
	case fixed != 0:
		return fixed > 0
	case addr != "":
		return address.Supported(addr)
	}
	return address.OptionSupported(opt)
}

func (s *relaySession) printVersion() {
	w := s.r.stdout
	fmt.Fprintf(w, "sockit %s relay, socat-compatible - https://github.com/sockit/sockit\n", Version)
	fmt.Fprintf(w, "socat version 1.7.4.4 compatible, sockit %s built with %s\n", Version, runtime.Version())
	fmt.Fprintf(w, "   running on %s %s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(w, "features:")
	for _, f := range features {
		if featureOn(f.addr, f.opt, f.fixed) {
			fmt.Fprintf(w, "  #define WITH_%s 1\n", f.name)
		} else {
			fmt.Fprintf(w, "  #undef WITH_%s\n", f.name)
		}
	}
}

// printHelp is -h, -hh and -hhh in socat's layout, from the parser's
// tables: address types sockit opens with their groups, then (-hh) the
// option names, then (-hhh) each option with groups, phase and type and
// each alias.
func (s *relaySession) printHelp() {
	w := s.r.stdout
	name := "sockit relay"
	if s.socat {
		name = "socat"
	}
	fmt.Fprintf(w, `%[1]s: join two addresses and copy bytes both ways (socat 1.7.4 compatible)
Usage:
%[1]s [options] <bi-address> <bi-address>
   options:
%[3]s%[2]s   bi-address:
      <single-address>!!<single-address>
      <single-address>
   single-address:
      <address-head>[,<opts>]
   address-head:
`, name, watchHelp(), strings.Join(relayOptionLines, ""))
	aliased := map[string]bool{}
	for _, t := range address.Types() {
		if t.Refused != "" {
			continue
		}
		if s.o.help >= 3 && !aliased[t.Name] {
			aliased[t.Name] = true
			for _, a := range t.Aliases {
				fmt.Fprintf(w, "         %s is an alias name for %s\n", a, t.Name)
			}
		}
		if t.Groups == "" {
			fmt.Fprintf(w, "      %s\n", t.Usage)
		} else {
			fmt.Fprintf(w, "      %s\tgroups=%s\n", t.Usage, t.Groups)
		}
	}
	fmt.Fprintln(w, "         <num> is a short form for fd:<num>")
	fmt.Fprintln(w, "         <filename> is a short form for gopen:<filename>")
	if s.o.help < 2 {
		return
	}
	fmt.Fprintln(w, "   opts:\n      <opt>{,<opts>}:\n   opt:")
	for _, o := range address.Options() {
		switch {
		case s.o.help >= 3 && o.Groups != "":
			fmt.Fprintf(w, "      %s\tgroups=%s\tphase=%s\ttype=%s\n", o.Name, o.Groups, o.Phase, o.Typ)
		case o.Groups != "":
			fmt.Fprintf(w, "      %s\tgroups=%s\n", o.Name, o.Groups)
		default:
			fmt.Fprintf(w, "      %s\t(sockit) %s\n", o.Name, o.Help)
		}
		if s.o.help >= 3 {
			for _, a := range o.Aliases {
				fmt.Fprintf(w, "      %s is an alias for %s\n", a, o.Name)
			}
		}
	}
}

// relayOptionLines are the relay's command-line options in socat's -h
// layout (its words, and sockit's where it differs); the man page is
// made from them too.
var relayOptionLines = []string{
	"      -V     print version and feature information to stdout, and exit\n",
	"      -h|-?  print a help text describing command line options and addresses\n",
	"      -hh    like -h, plus a list of all common address option names\n",
	"      -hhh   like -hh, plus a list of all available address option names\n",
	"      -d[ddd]         increase verbosity (use up to 4 times; 2 are recommended)\n",
	"      -D     analyze file descriptors before loop\n",
	"      -ly[facility]  log to syslog, using facility (default is daemon)\n",
	"      -lf<logfile>   log to file\n",
	"      -ls            log to stderr (default if no other log)\n",
	"      -lm[facility]  mixed log mode (stderr during initialization, then syslog)\n",
	"      -lp<progname>  set the program name used for logging\n",
	"      -lu            use microseconds for logging timestamps\n",
	"      -lh            add hostname to log messages\n",
	"      -v     verbose text dump of data traffic\n",
	"      -x     verbose hexadecimal dump of data traffic\n",
	"      -r <file>      raw dump of data flowing from left to right\n",
	"      -R <file>      raw dump of data flowing from right to left\n",
	"      -b<size_t>     accepted for socat compatibility; the kernel path sizes its own buffers\n",
	"      -s     sloppy (continue on error)\n",
	"      -t<timeout>    wait seconds before closing second channel (socat's default 0.5 s;\n                     sockit relay waits for both sides, except over datagrams)\n",
	"      -T<timeout>    total inactivity timeout in seconds\n",
	"      -u     unidirectional mode (left to right)\n",
	"      -U     unidirectional mode (right to left)\n",
	"      -g     do not check option groups\n",
	"      -L <lockfile>  try to obtain lock, or fail\n",
	"      -W <lockfile>  try to obtain lock, or wait\n",
	"      -4     prefer IPv4 if version is not explicitly specified\n",
	"      -6     prefer IPv6 if version is not explicitly specified\n",
	"      --explain <address>  print how sockit reads an address, and exit\n",
}

// watchHelp is the watch options' lines for the relay's -h, from the
// same flag set that parses them, laid out as sockit --help lays them.
func watchHelp() string {
	var w watchFlags
	var b strings.Builder
	w.flagSet().VisitAll(func(f *pflag.Flag) {
		writeColumns(&b, "      "+lookupEntry(w.flagSet(), entryOf(f.Name)).left(), f.Usage, 34)
	})
	return b.String()
}
