package address

import (
	"slices"
	"sort"
	"strings"
)

// socatParam is one positional parameter of a socat address type.
type socatParam struct {
	name     string
	optional bool
}

// socatAddr is one address type as socat -hhh lists it.
type socatAddr struct {
	name   string
	params []socatParam
	groups string // comma-separated option groups
}

// socatOpt is one address option as socat -hhh lists it.
type socatOpt struct {
	groups, phase, typ string
}

// kindOf maps socat's address types (canonical names, from zsocat.go) to
// the Kind that opens them and the family or namespace the name forces.
var kindOf = map[string]struct {
	kind   Kind
	family string
}{
	"tcp-connect": {TCP, ""}, "tcp4-connect": {TCP, "4"}, "tcp6-connect": {TCP, "6"},
	"tcp-listen": {TCPListen, ""}, "tcp4-listen": {TCPListen, "4"}, "tcp6-listen": {TCPListen, "6"},
	"udp-connect": {UDP, ""}, "udp4-connect": {UDP, "4"}, "udp6-connect": {UDP, "6"},
	"udp-listen": {UDPListen, ""}, "udp4-listen": {UDPListen, "4"}, "udp6-listen": {UDPListen, "6"},
	"udp-sendto": {UDPSendto, ""}, "udp4-sendto": {UDPSendto, "4"}, "udp6-sendto": {UDPSendto, "6"},
	"udp-recvfrom": {UDPRecvfrom, ""}, "udp4-recvfrom": {UDPRecvfrom, "4"}, "udp6-recvfrom": {UDPRecvfrom, "6"},
	"udp-recv": {UDPRecv, ""}, "udp4-recv": {UDPRecv, "4"}, "udp6-recv": {UDPRecv, "6"},
	"udp-datagram": {UDPDatagram, ""}, "udp4-datagram": {UDPDatagram, "4"}, "udp6-datagram": {UDPDatagram, "6"},
	"ip-sendto": {IPSendto, ""}, "ip4-sendto": {IPSendto, "4"}, "ip6-sendto": {IPSendto, "6"},
	"ip-recvfrom": {IPRecvfrom, ""}, "ip4-recvfrom": {IPRecvfrom, "4"}, "ip6-recvfrom": {IPRecvfrom, "6"},
	"ip-recv": {IPRecv, ""}, "ip4-recv": {IPRecv, "4"}, "ip6-recv": {IPRecv, "6"},
	"ip-datagram": {IPDatagram, ""}, "ip4-datagram": {IPDatagram, "4"}, "ip6-datagram": {IPDatagram, "6"},
	"unix-connect": {UnixConnect, ""}, "unix-listen": {UnixListen, ""}, "unix-sendto": {UnixSendto, ""},
	"unix-recvfrom": {UnixRecvfrom, ""}, "unix-recv": {UnixRecv, ""}, "unix-client": {UnixClient, ""},
	"abstract-connect": {UnixConnect, "abstract"}, "abstract-listen": {UnixListen, "abstract"},
	"abstract-sendto": {UnixSendto, "abstract"}, "abstract-recvfrom": {UnixRecvfrom, "abstract"},
	"abstract-recv": {UnixRecv, "abstract"}, "abstract-client": {UnixClient, "abstract"},
	"stdio": {Stdio, ""}, "stdin": {Stdin, ""}, "stdout": {Stdout, ""}, "stderr": {Stderr, ""},
	"fd": {FD, ""}, "exec": {Exec, ""}, "system": {System, ""},
	"open": {File, ""}, "create": {Create, ""}, "gopen": {Gopen, ""}, "pipe": {Pipe, ""}, "pty": {PTY, ""},
	"socks4": {Socks4, ""}, "socks4a": {Socks4A, ""}, "proxy": {Proxy, ""},
	"openssl": {OpenSSL, ""}, "openssl-listen": {OpenSSLListen, ""},
	"interface": {Interface, ""}, "tun": {TUN, ""},
	"vsock-connect": {VsockConnect, ""}, "vsock-listen": {VsockListen, ""},
	"socket-connect": {SocketConnect, ""}, "socket-listen": {SocketListen, ""},
	"socket-sendto": {SocketSendto, ""}, "socket-recvfrom": {SocketRecvfrom, ""},
	"socket-recv": {SocketRecv, ""}, "socket-datagram": {SocketDatagram, ""},
}

// refused are socat address types sockit does not open, with the reason.
// Every other type in socat's table is in kindOf; TestSocatTypesCovered
// keeps it so.
var refused = map[string]string{
	"openssl-dtls-client": "Go's crypto/tls has no DTLS",
	"openssl-dtls-server": "Go's crypto/tls has no DTLS",
	"sctp-connect":        "sockit has no SCTP (Go's net has none)",
	"sctp-listen":         "sockit has no SCTP (Go's net has none)",
	"sctp4-connect":       "sockit has no SCTP (Go's net has none)",
	"sctp4-listen":        "sockit has no SCTP (Go's net has none)",
	"sctp6-connect":       "sockit has no SCTP (Go's net has none)",
	"sctp6-listen":        "sockit has no SCTP (Go's net has none)",
	// Types of socat 1.8 and of other builds, refused by name too.
	"readline":      "READLINE is not supported: sockit has no line editor; use rlwrap sockit relay - ...",
	"posixmq-read":  "sockit has no POSIX message queue addresses",
	"posixmq-write": "sockit has no POSIX message queue addresses",
}

// extensions are address types sockit has beyond socat 1.7.4.
var extensions = map[string]Kind{
	"socks5": Socks5, "socks5-connect": Socks5, "openssl-connect": OpenSSL, "file": File,
}

// lookupType resolves an address keyword (any case, any alias) to its
// canonical socat name and socat's entries for it (pipe has two: with and
// without a file name).
func lookupType(keyword string) (string, []socatAddr) {
	name := strings.ToLower(keyword)
	if a, ok := socatAddrAliases[name]; ok {
		name = a
	}
	var out []socatAddr
	for _, a := range socatAddrs {
		if a.name == name {
			out = append(out, a)
		}
	}
	return name, out
}

// socatKeywords lists every name socat accepts for an address type.
func socatKeywords() []string {
	seen := map[string]bool{}
	for _, a := range socatAddrs {
		seen[a.name] = true
	}
	for a := range socatAddrAliases {
		seen[a] = true
	}
	for e := range extensions {
		seen[e] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// canonicalOption resolves an option name (any case, any socat alias) to
// socat's canonical name, or returns it lower-cased if socat has none.
func canonicalOption(name string) string {
	name = strings.ToLower(name)
	if a, ok := socatOptAliases[name]; ok {
		return a
	}
	return name
}

// everyAddress are the option groups every address type has, though
// socat's -h does not list them (socat's GROUP_ANY): found by running
// socat with an option of each group on each type.
const everyAddress = "APPL,PROCESS"

// inGroups reports whether any of the comma-separated groups of an option
// is among the address's groups.
func inGroups(optGroups, addrGroups string) bool {
	have := strings.Split(addrGroups+","+everyAddress, ",")
	for _, g := range strings.Split(optGroups, ",") {
		if slices.Contains(have, g) {
			return true
		}
	}
	return false
}

// TypeInfo describes one address type, for help texts and -V.
type TypeInfo struct {
	Name    string   // socat's name for it, lower case ("tcp-listen")
	Usage   string   // its head as socat's -h shows it ("tcp-listen:<port>")
	Groups  string   // socat's option groups ("FD,SOCKET,LISTEN,...")
	Aliases []string // its other names ("tcp-l")
	Refused string   // why sockit does not open it; "" when it does
}

// Types lists socat's address types in socat's -h order, then sockit's
// own, with whether sockit opens each.
func Types() []TypeInfo {
	aliases := map[string][]string{}
	for a, to := range socatAddrAliases {
		aliases[to] = append(aliases[to], a)
	}
	var out []TypeInfo
	for _, a := range socatAddrs {
		sort.Strings(aliases[a.name])
		usage := a.name
		for _, p := range a.params {
			name := strings.ReplaceAll(p.name, "/", ">/<") // tun's <ip-addr>/<bits>
			if p.optional {
				usage += "[:<" + name + ">]"
			} else {
				usage += ":<" + name + ">"
			}
		}
		if a.name == "pipe" && len(a.params) == 0 {
			usage = "pipe[,<opts>]" // socat's bi-address form
		}
		out = append(out, TypeInfo{Name: a.name, Usage: usage, Groups: a.groups, Aliases: aliases[a.name], Refused: refused[a.name]})
	}
	var ext []string
	for e := range extensions {
		ext = append(ext, e)
	}
	sort.Strings(ext)
	for _, e := range ext {
		out = append(out, TypeInfo{Name: e, Usage: strings.ToLower(Usage(e))})
	}
	return out
}

// Supported reports whether sockit opens the address type of this name
// (any alias).
func Supported(name string) bool {
	canon, entries := lookupType(name)
	if _, ok := extensions[canon]; ok {
		return true
	}
	_, isRefused := refused[canon]
	return len(entries) > 0 && !isRefused
}

// OptionInfo describes one address option sockit takes.
type OptionInfo struct {
	Name               string   // socat's name for it, or sockit's for its own
	Groups, Phase, Typ string   // socat's; "" for sockit's own options
	Aliases            []string // every other name it is known by
	Help               string
}

// Options lists the options sockit takes, by name.
func Options() []OptionInfo {
	var out []OptionInfo
	for name, info := range options {
		canon := canonicalOption(name)
		so, isSocat := socatOpts[canon]
		if !isSocat {
			canon = name
		}
		oi := OptionInfo{Name: canon, Groups: so.groups, Phase: so.phase, Typ: so.typ, Help: info.help}
		for a, to := range socatOptAliases {
			if to == canon {
				oi.Aliases = append(oi.Aliases, a)
			}
		}
		for a, to := range aliases {
			if to == name {
				oi.Aliases = append(oi.Aliases, a)
			}
		}
		sort.Strings(oi.Aliases)
		out = append(out, oi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// OptionSupported reports whether sockit takes the option of this name.
func OptionSupported(name string) bool {
	n, _ := resolveOption(name)
	return n != ""
}
