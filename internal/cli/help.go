package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// flagGroup is one section of sockit --help: a title and its flags, in
// the order people look for them. Each entry is a flag's long name, with
// "=META" naming its value.
type flagGroup struct {
	title string
	flags []string
}

// flagGroups lay out sockit's flags. Every flag of the ncat flag set is
// in exactly one group (TestHelpGroupsEveryFlag); the flag's own usage
// string is its help, so the help, the man page and the completions say
// what the parser takes.
var flagGroups = []flagGroup{
	{"Connect and listen", []string{"listen", "keep-open", "source=ADDR", "source-port=PORT", "max-conns=N", "backlog=N"}},
	{"Socket families", []string{"udp", "unixsock", "ipv4", "ipv6", "nodns"}},
	{"Run a command per connection", []string{"exec=COMMAND", "sh-exec=COMMAND", "lua-exec=FILE"}},
	{"TLS", []string{"ssl", "ssl-cert=FILE", "ssl-key=FILE", "ssl-trustfile=FILE", "ssl-verify", "ssl-insecure", "ssl-pin=sha256:HEX",
		"ssl-servername=NAME", "ssl-alpn=PROTOS", "ssl-ciphers=LIST"}},
	{"Proxies", []string{"proxy=HOST[:PORT]", "proxy-type=TYPE", "proxy-auth=USER:PASS", "proxy-dns=WHERE"}},
	{"Access control", []string{"allow=HOSTS", "allowfile=FILE", "deny=HOSTS", "denyfile=FILE"}},
	{"Broker and chat", []string{"broker", "chat", "max-queue=SIZE", "lag-grace=TIME", "federate=URL", "room=NAME", "federate-node=NAME",
		"federate-creds=FILE", "federate-ca=FILE"}},
	{"Scan", []string{"zero"}},
	{"Data", []string{"crlf", "send-only", "recv-only", "no-shutdown", "eof=WHEN"}},
	{"Output and logging", []string{"verbose", "progress", "output=FILE", "hex-dump=FILE", "append-output", "json[=FILE]", "capture=FILE",
		"keylog=FILE", "monitor=ADDR", "monitor-allow=HOSTS", "monitor-token=TOKEN", "monitor-allow-control"}},
	{"Timing", []string{"wait=TIME", "idle-timeout=TIME", "delay=TIME"}},
	{"Help", []string{"help", "version"}},
}

// safer marks the flags whose sockit default is safer than ncat's, with
// how when their usage does not say it already.
var safer = map[string]string{
	"ssl":           "sockit verifies the server's certificate and name; ncat only with --ssl-verify",
	"ssl-insecure":  "the only way to skip verification, and it says so on stderr",
	"monitor":       "",
	"capture":       "",
	"keylog":        "",
	"monitor-token": "compared in constant time",
}

// subcommands are sockit's words before any flag, for --help, the man
// page and the completions.
var subcommands = []struct{ name, args, help string }{
	{"relay", "[OPTIONS] ADDRESS ADDRESS", "join two addresses in socat's syntax (socat's command line: sockit help relay)"},
	{"bench", "[serve|report|compare|merge] [OPTIONS] ADDRESS", "throughput, latency percentiles and connection rate over any address (sockit bench --help)"},
	{"top", "[--once] [--token TOKEN] ADDR", "the live sessions of a server run with --monitor ADDR, in the terminal"},
	{"help", "[TOPIC]", "this text, or a topic: relay, addresses, options, an address type, an address option"},
	{"version", "", "version, commit, Go, platform and the optional paths this build can use"},
	{"completion", "bash|zsh|fish", "a shell completion script (source <(sockit completion bash))"},
	{"man", "DIR", "write the man pages to DIR"},
	{"install-links", "DIR", "links named ncat, nc, nc.traditional and socat to this binary"},
	{"ncat, nc, nc.traditional, socat", "ARGS", "run as that tool, as the link of that name does"},
}

// examples end sockit --help.
var examples = [][2]string{
	{"sockit -lvnp 8001", "listen on port 8001 and say who connects"},
	{"sockit example.com 80", "talk to a web server (type the request)"},
	{"sockit -lk -c 'date' 8002", "a server that runs a command for each client"},
	{"sockit --ssl example.com 443", "TLS, with the server's certificate checked"},
	{"sockit -z 127.0.0.1 20-25,80", "which of these ports are open"},
	{"sockit relay TCP-LISTEN:8080,fork TCP:db:5432", "forward every connection to 8080 to db:5432"},
	{"sockit --monitor 127.0.0.1:9090 -lk 8001", "the same server with metrics and a live page"},
}

// flagEntry is one flag as the help lays it out.
type flagEntry struct {
	f    *pflag.Flag
	meta string // the value's name; "" for a switch
	opt  bool   // the value may be left out (--json)
}

// lookupEntry parses a flagGroups entry against fs.
func lookupEntry(fs *pflag.FlagSet, entry string) flagEntry {
	name, meta, _ := strings.Cut(entry, "=")
	name, opt := strings.CutSuffix(name, "[")
	if opt {
		meta = strings.TrimSuffix(meta, "]")
	}
	return flagEntry{f: fs.Lookup(name), meta: meta, opt: opt}
}

// entryOf is the flagGroups entry of the flag of that name.
func entryOf(name string) string {
	for _, g := range flagGroups {
		for _, e := range g.flags {
			if n, _, _ := strings.Cut(e, "="); strings.TrimSuffix(n, "[") == name {
				return e
			}
		}
	}
	return name
}

// left is the flag's column: "-l, --listen", "    --ssl-cert FILE".
func (e flagEntry) left() string {
	s := "    --" + e.f.Name
	if e.f.Shorthand != "" {
		s = "-" + e.f.Shorthand + ", --" + e.f.Name
	}
	switch {
	case e.meta != "" && e.opt:
		s += "[=" + e.meta + "]"
	case e.meta != "":
		s += " " + e.meta
	}
	return s
}

// usage is the flag's help with its default, when the default says
// something.
func (e flagEntry) usage() string {
	u := e.f.Usage
	if d := e.f.DefValue; e.meta != "" && d != "" && d != "0" && d != "0s" && d != "[]" && !e.opt && !strings.Contains(u, "default") {
		u += " (default " + d + ")"
	}
	return u
}

// printSockitHelp is sockit --help: usage, the flags by group, the
// commands and a few examples.
func printSockitHelp(w io.Writer) {
	fs := newNcatFlags(&ncatOptions{})
	fmt.Fprintf(w, `sockit %s: connect, listen and relay over TCP, UDP and Unix sockets.

Usage:
  sockit [OPTIONS] HOST PORT             connect (ncat's command line)
  sockit [OPTIONS] -l [HOST] PORT        listen
  sockit relay [OPTIONS] ADDRESS ADDRESS join two addresses (socat's)
  sockit COMMAND ...                     see Commands

Options taking a time assume seconds; append ms, s, m or h (500ms).
A * marks a default that is safer than ncat's.
`, Version)
	for _, g := range flagGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, entry := range g.flags {
			e := lookupEntry(fs, entry)
			mark := " "
			u := e.usage()
			if why, ok := safer[e.f.Name]; ok {
				mark = "*"
				if why != "" {
					u += " (" + why + ")"
				}
			}
			writeColumns(w, " "+mark+e.left(), u, 32)
		}
	}
	fmt.Fprintf(w, "\nCommands:\n")
	for _, c := range subcommands {
		writeColumns(w, "  "+strings.TrimSpace(c.name+" "+c.args), c.help, 32)
	}
	fmt.Fprintf(w, "\nExamples:\n")
	for _, e := range examples {
		fmt.Fprintf(w, "  %s\n      %s\n", e[0], e[1])
	}
	fmt.Fprintf(w, "\nMore: sockit help TOPIC, man sockit, man sockit-relay.\n")
}

// writeColumns writes left, padded to width, then text wrapped to 80
// columns; a left column too wide for its place puts text on the next
// line.
func writeColumns(w io.Writer, left, text string, width int) {
	line := left
	if len(left) >= width-1 {
		fmt.Fprintln(w, left)
		line = ""
	}
	line = fmt.Sprintf("%-*s", width, line)
	for _, word := range strings.Fields(text) {
		if len(line)+1+len(word) > 80 && strings.TrimSpace(line) != "" && len(line) > width {
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			line = strings.Repeat(" ", width)
		}
		if len(line) > width {
			line += " "
		}
		line += word
	}
	fmt.Fprintln(w, strings.TrimRight(line, " "))
}

// ncatHelpLines are ncat 7.93's --help lines, word for word, for the
// flags sockit has, in ncat's order (TestNcatHelpMatchesNcat holds them
// to the real ncat's).
var ncatHelpLines = []struct{ flag, line string }{
	{"ipv4", "  -4                         Use IPv4 only"},
	{"ipv6", "  -6                         Use IPv6 only"},
	{"unixsock", "  -U, --unixsock             Use Unix domain sockets only"},
	{"crlf", "  -C, --crlf                 Use CRLF for EOL sequence"},
	{"sh-exec", "  -c, --sh-exec <command>    Executes the given command via /bin/sh"},
	{"exec", "  -e, --exec <command>       Executes the given command"},
	{"lua-exec", "      --lua-exec <filename>  Executes the given Lua script"},
	{"max-conns", "  -m, --max-conns <n>        Maximum <n> simultaneous connections"},
	{"help", "  -h, --help                 Display this help screen"},
	{"delay", "  -d, --delay <time>         Wait between read/writes"},
	{"output", "  -o, --output <filename>    Dump session data to a file"},
	{"hex-dump", "  -x, --hex-dump <filename>  Dump session data as hex to a file"},
	{"idle-timeout", "  -i, --idle-timeout <time>  Idle read/write timeout"},
	{"source-port", "  -p, --source-port port     Specify source port to use"},
	{"source", "  -s, --source addr          Specify source address to use (doesn't affect -l)"},
	{"listen", "  -l, --listen               Bind and listen for incoming connections"},
	{"keep-open", "  -k, --keep-open            Accept multiple connections in listen mode"},
	{"nodns", "  -n, --nodns                Do not resolve hostnames via DNS"},
	{"udp", "  -u, --udp                  Use UDP instead of default TCP"},
	{"verbose", "  -v, --verbose              Set verbosity level (can be used several times)"},
	{"wait", "  -w, --wait <time>          Connect timeout"},
	{"zero", "  -z                         Zero-I/O mode, report connection status only"},
	{"append-output", "      --append-output        Append rather than clobber specified output files"},
	{"send-only", "      --send-only            Only send data, ignoring received; quit on EOF"},
	{"recv-only", "      --recv-only            Only receive data, never send anything"},
	{"no-shutdown", "      --no-shutdown          Continue half-duplex when receiving EOF on stdin"},
	{"allow", "      --allow                Allow only given hosts to connect to Ncat"},
	{"allowfile", "      --allowfile            A file of hosts allowed to connect to Ncat"},
	{"deny", "      --deny                 Deny given hosts from connecting to Ncat"},
	{"denyfile", "      --denyfile             A file of hosts denied from connecting to Ncat"},
	{"broker", "      --broker               Enable Ncat's connection brokering mode"},
	{"chat", "      --chat                 Start a simple Ncat chat server"},
	{"proxy", "      --proxy <addr[:port]>  Specify address of host to proxy through"},
	{"proxy-type", `      --proxy-type <type>    Specify proxy type ("http", "socks4", "socks5")`},
	{"proxy-auth", "      --proxy-auth <auth>    Authenticate with HTTP or SOCKS proxy server"},
	{"proxy-dns", "      --proxy-dns <type>     Specify where to resolve proxy destination"},
	{"ssl", "      --ssl                  Connect or listen with SSL"},
	{"ssl-cert", "      --ssl-cert             Specify SSL certificate file (PEM) for listening"},
	{"ssl-key", "      --ssl-key              Specify SSL private key (PEM) for listening"},
	{"ssl-verify", "      --ssl-verify           Verify trust and domain name of certificates"},
	{"ssl-trustfile", "      --ssl-trustfile        PEM file containing trusted SSL certificates"},
	{"ssl-ciphers", "      --ssl-ciphers          Cipherlist containing SSL ciphers to use"},
	{"ssl-servername", "      --ssl-servername       Request distinct server name (SNI)"},
	{"ssl-alpn", "      --ssl-alpn             ALPN protocol list to use"},
	{"version", "      --version              Display Ncat's version information and exit"},
}

// printNcatHelp is --help under the ncat link: ncat's layout and words
// for ncat's flags, then sockit's own in the same shape.
func printNcatHelp(w io.Writer) {
	fmt.Fprintf(w, "Ncat-compatible sockit %s ( https://github.com/sockit/sockit )\n", Version)
	fmt.Fprintf(w, "Usage: ncat [options] [hostname] [port]\n\n")
	fmt.Fprintf(w, "Options taking a time assume seconds. Append 'ms' for milliseconds,\n")
	fmt.Fprintf(w, "'s' for seconds, 'm' for minutes, or 'h' for hours (e.g. 500ms).\n")
	ncats := map[string]bool{}
	for _, l := range ncatHelpLines {
		fmt.Fprintln(w, l.line)
		ncats[l.flag] = true
	}
	fs := newNcatFlags(&ncatOptions{})
	fmt.Fprintf(w, "Not in ncat (sockit's):\n")
	for _, g := range flagGroups {
		for _, entry := range g.flags {
			e := lookupEntry(fs, entry)
			if ncats[e.f.Name] {
				continue
			}
			left := e.left()
			if e.meta != "" {
				left = strings.Replace(left, " "+e.meta, " <"+strings.ToLower(e.meta)+">", 1)
			}
			writeColumns(w, "  "+left, capitalize(e.usage()), 29)
		}
	}
	fmt.Fprintf(w, "\nSee the ncat(1) manpage for full options, descriptions and usage examples\n")
}

// printCommandHelp is sockit COMMAND --help for the commands without a
// help of their own (relay has socat's -h): the usage and what it does.
// It reports false for a word that is no such command.
func printCommandHelp(w io.Writer, name string) bool {
	if name == "bench" {
		printBenchHelp(w)
		return true
	}
	for _, c := range subcommands {
		if c.name == name && name != "relay" {
			fmt.Fprintf(w, "Usage: sockit %s\n\n", strings.TrimSpace(name+" "+c.args))
			writeColumns(w, "", capitalize(c.help)+".", 2)
			fmt.Fprintf(w, "\nSee man sockit-%s.\n", name)
			return true
		}
	}
	return false
}
