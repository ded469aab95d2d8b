package cli

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/sockit/sockit/address"
)

// typeExamples show one use of an address type, on the relay's command
// line; types without one get a plain example from their usage.
var typeExamples = map[address.Kind]string{
	address.TCP:           "sockit relay - TCP:example.com:80",
	address.TCPListen:     "sockit relay TCP-LISTEN:8080,fork,reuseaddr TCP:db:5432",
	address.UDP:           "sockit relay - UDP:127.0.0.1:53",
	address.UDPListen:     "sockit relay UDP-LISTEN:5353,fork UDP:10.0.0.1:53",
	address.UDPRecvfrom:   "sockit relay UDP-RECVFROM:5140,fork -",
	address.UDPSendto:     "sockit relay - UDP-SENDTO:127.0.0.1:5140",
	address.UDPDatagram:   "sockit relay - UDP-DATAGRAM:255.255.255.255:9,broadcast",
	address.UnixConnect:   "sockit relay - UNIX-CONNECT:/run/app.sock",
	address.UnixListen:    "sockit relay UNIX-LISTEN:/tmp/s.sock,fork TCP:127.0.0.1:80",
	address.UnixSendto:    "sockit relay - UNIX-SENDTO:/dev/log",
	address.UnixRecvfrom:  "sockit relay UNIX-RECVFROM:/tmp/d.sock,fork -",
	address.UnixClient:    "sockit relay - UNIX-CLIENT:/run/app.sock",
	address.Stdio:         "sockit relay STDIO TCP:127.0.0.1:80",
	address.Exec:          "sockit relay TCP-LISTEN:2222,fork EXEC:'/usr/sbin/sshd -i',pty,setsid",
	address.System:        "sockit relay TCP-LISTEN:8000,fork SYSTEM:'echo hello; date'",
	address.File:          "sockit relay -u OPEN:/var/log/syslog,ignoreeof TCP:127.0.0.1:5140",
	address.Create:        "sockit relay -u TCP-LISTEN:9000 CREATE:/tmp/upload",
	address.Gopen:         "sockit relay - GOPEN:/tmp/file-or-socket",
	address.Pipe:          "sockit relay PIPE:/tmp/fifo TCP:127.0.0.1:9000",
	address.PTY:           "sockit relay PTY,link=/tmp/ttyV0,raw,echo=0 TCP:127.0.0.1:5000",
	address.OpenSSL:       "sockit relay - OPENSSL:example.com:443",
	address.OpenSSLListen: "sockit relay OPENSSL-LISTEN:8443,cert=server.pem,fork TCP:127.0.0.1:80",
	address.Socks4A:       "sockit relay - SOCKS4A:127.0.0.1:example.com:80,socksport=1080",
	address.Socks5:        "sockit relay - SOCKS5:127.0.0.1:example.com:80,socksport=1080",
	address.Proxy:         "sockit relay - PROXY:127.0.0.1:example.com:443,proxyport=3128",
}

// printTopic is sockit help TOPIC and sockit relay --help TOPIC: the
// relay and its address types, the address options, one address type
// with its options, or one option.
func printTopic(w io.Writer, topic string) error {
	switch strings.ToLower(topic) {
	case "", "sockit", "flags":
		printSockitHelp(w)
		return nil
	case "relay", "addresses", "address", "socat":
		printRelayTopic(w)
		return nil
	case "options":
		fmt.Fprintln(w, "Address options (ADDRESS,OPTION=VALUE,...); sockit help OPTION for one:")
		for _, n := range optionDocNames() {
			d, _ := address.DescribeOption(n)
			writeColumns(w, "  "+optionHead(d), d.Help, 32)
		}
		return nil
	}
	if d, ok := address.Describe(topic); ok {
		printTypeTopic(w, d)
		return nil
	}
	if d, ok := address.DescribeOption(topic); ok {
		printOptionTopic(w, d)
		return nil
	}
	if printCommandHelp(w, strings.ToLower(topic)) { // sockit help bench, help top, ...
		return nil
	}
	return usagef("no help on %q%s; try 'sockit help' for the topics", topic, suggestion(topic, topicNames()))
}

// printRelayTopic is sockit help relay: the relay's command line and
// every address type sockit opens, with what it does.
func printRelayTopic(w io.Writer) {
	fmt.Fprintf(w, `sockit relay [OPTIONS] ADDRESS ADDRESS: join two addresses and copy bytes
both ways, in socat's address syntax (socat's command line and options:
sockit relay -h; as a drop-in, the socat link).

An address is TYPE:PARAMS,OPTION,OPTION=VALUE,... (types and options in any
case; "-" is STDIO, a number is FD:N, a path is GOPEN:PATH; A!!B reads from
A and writes to B). Quote with '...' or "..." or escape with \ inside a
parameter; sockit relay --explain ADDRESS prints how it was read.

Address types (sockit help TYPE for its options and an example):
`)
	for _, d := range openedTypes() {
		writeColumns(w, "  "+typeHead(d.Usage), d.About, 36)
	}
	fmt.Fprintf(w, "\nNot opened: ")
	var no []string
	for _, t := range address.Types() {
		if t.Refused != "" {
			no = append(no, strings.ToUpper(t.Name))
		}
	}
	fmt.Fprintf(w, "%s (sockit help TYPE says why).\n", strings.Join(no, ", "))
	fmt.Fprintf(w, `
Examples:
  sockit relay TCP-LISTEN:8080,fork,reuseaddr TCP:db:5432
  sockit relay - OPENSSL:example.com:443
  sockit relay UNIX-LISTEN:/tmp/app.sock,fork EXEC:'cat',nofork
  sockit relay -d -d UDP-RECVFROM:5353,fork UDP:127.0.0.1:53
`)
}

// printTypeTopic is sockit help TYPE.
func printTypeTopic(w io.Writer, d address.TypeDoc) {
	fmt.Fprintf(w, "%s\n", typeHead(d.Usage))
	if d.Refused != "" {
		fmt.Fprintf(w, "  sockit does not open it: %s.\n", d.Refused)
		return
	}
	fmt.Fprintf(w, "  %s.\n", capitalize(d.About))
	if len(d.Aliases) > 0 {
		fmt.Fprintf(w, "  Also named: %s.\n", strings.ToUpper(strings.Join(d.Aliases, ", ")))
	}
	switch d.Family {
	case "4", "6":
		fmt.Fprintf(w, "  IPv%s only (pf=ip%s).\n", d.Family, d.Family)
	case "abstract":
		fmt.Fprintf(w, "  In Linux's abstract namespace (abstract).\n")
	}
	if d.Groups != "" {
		fmt.Fprintf(w, "  socat's option groups: %s.\n", d.Groups)
	}
	ex := typeExamples[d.Kind]
	if ex == "" || d.Family != "" || !strings.EqualFold(string(d.Kind), d.Name) {
		ex = exampleFor(d)
	}
	fmt.Fprintf(w, "\nExample:\n  %s\n", ex)
	var own, every []address.OptionDoc
	for _, o := range d.Options {
		if o.Kinds == nil {
			every = append(every, o)
		} else {
			own = append(own, o)
		}
	}
	fmt.Fprintf(w, "\nOptions of %s:\n", strings.ToUpper(d.Name))
	for _, o := range own {
		writeColumns(w, "  "+optionHead(o), o.Help, 32)
	}
	var names []string
	for _, o := range every {
		names = append(names, o.Name)
	}
	fmt.Fprintf(w, "\nAnd the options of every address (sockit help OPTION):\n")
	writeColumns(w, "", strings.Join(names, " "), 2)
}

// exampleFor writes an example of a type from its own name: the
// well-known example with the type's name, or its usage with sample
// values.
func exampleFor(d address.TypeDoc) string {
	if ex := typeExamples[d.Kind]; ex != "" {
		return strings.Replace(ex, strings.ToUpper(string(d.Kind))+":", strings.ToUpper(d.Name)+":", 1)
	}
	head := strings.NewReplacer("[,<opts>]", "", "[", "", "]", "").Replace(typeHead(d.Usage))
	return "sockit relay - " + sampleParams.Replace(head)
}

// openedTypes are the address types sockit opens, by name.
func openedTypes() []address.TypeDoc {
	var out []address.TypeDoc
	for _, t := range address.Types() {
		if t.Refused == "" {
			d, _ := address.Describe(t.Name)
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// typeHead is an address type's usage with its name in capitals, as
// people write it: "TCP-LISTEN:<port>".
func typeHead(usage string) string {
	i := strings.IndexAny(usage, ":[,")
	if i < 0 {
		i = len(usage)
	}
	return strings.ToUpper(usage[:i]) + usage[i:]
}

// sampleParams fill an address type's parameters for an example.
var sampleParams = strings.NewReplacer("<host>", "127.0.0.1", "<port>", "9000", "<filename>", "/tmp/sock",
	"<command-line>", "cat", "<shell-command>", "cat", "<interface>", "lo", "<num>", "3",
	"<socks-server>", "127.0.0.1", "<proxy-server>", "127.0.0.1", "<protocol>", "253", "<cid>", "2",
	"<domain>", "2", "<type>", "1", "<ip-addr>", "10.0.0.1", "<bits>", "24",
	"<local-address>", "x00000000", "<remote-address>", "x00000000")

// printOptionTopic is sockit help OPTION.
func printOptionTopic(w io.Writer, d address.OptionDoc) {
	fmt.Fprintf(w, "%s\n", optionHead(d))
	writeColumns(w, "", capitalize(d.Help)+".", 2)
	if len(d.Aliases) > 0 {
		fmt.Fprintf(w, "  Also named: %s.\n", strings.Join(d.Aliases, ", "))
	}
	if d.Value == "" {
		fmt.Fprintf(w, "  A switch: %s or %s=1 turns it on, %s=0 off.\n", d.Name, d.Name, d.Name)
	}
	if d.Kinds == nil {
		fmt.Fprintf(w, "  Taken by every address type.\n")
		return
	}
	var ks []string
	for _, k := range d.Kinds {
		ks = append(ks, string(k))
	}
	fmt.Fprintf(w, "  Taken by:\n")
	writeColumns(w, "", strings.Join(ks, " "), 4)
}

// optionHead is an option as it is written: "fork", "backlog=N".
func optionHead(d address.OptionDoc) string {
	if d.Value == "" {
		return d.Name
	}
	return d.Name + "=" + d.Value
}

// optionDocNames are the options sockit takes, under its own names.
func optionDocNames() []string {
	seen := map[string]bool{}
	for _, o := range address.Options() {
		if d, ok := address.DescribeOption(o.Name); ok {
			seen[d.Name] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// suggestion is " (did you mean X?)" for the candidate nearest to s, or
// "" when none is near enough to be a likely typo.
func suggestion(s string, candidates []string) string {
	if len(strings.TrimLeft(s, "-")) < 2 {
		return "" // one letter is near every other
	}
	if hint := address.Suggest(s, candidates); hint != "" {
		return " (" + hint + ")"
	}
	return ""
}

// topicNames are the words sockit help knows.
func topicNames() []string {
	names := []string{"relay", "addresses", "options", "flags"}
	for _, c := range subcommands {
		if !strings.Contains(c.name, ",") {
			names = append(names, c.name)
		}
	}
	return append(append(names, address.TypeNames()...), address.OptionNames()...)
}
