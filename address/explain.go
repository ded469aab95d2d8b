package address

import (
	"fmt"
	"strconv"
	"strings"
)

// params names each kind's positional parameters, as socat's -h does.
var params = map[Kind][]string{
	TCP: {"host", "port"}, Socks4: {"socks-server", "host", "port"}, Socks4A: {"socks-server", "host", "port"},
	Socks5: {"socks-server", "host", "port"}, Proxy: {"proxy-server", "host", "port"}, OpenSSL: {"host", "port"}, OpenSSLListen: {"port"}, UDP: {"host", "port"}, UDPSendto: {"host", "port"},
	TCPListen: {"port"}, UDPListen: {"port"}, UDPRecvfrom: {"port"},
	UnixConnect: {"filename"}, UnixListen: {"filename"}, UnixSendto: {"filename"}, UnixRecvfrom: {"filename"},
	Exec: {"command-line"}, System: {"shell-command"}, Interface: {"interface"},
	File: {"filename"}, Create: {"filename"}, Gopen: {"filename"}, Pipe: {"filename"},
}

// about says in a few words what each kind does.
var about = map[Kind]string{
	TCP:            "connects to a TCP server",
	TCPListen:      "listens for TCP connections; accepts one, or every one with fork",
	UDP:            "sends to and receives from one UDP peer",
	UDPSendto:      "sends datagrams to a UDP peer",
	UDPListen:      "waits for a UDP peer; answers the first, or every one with fork",
	UDPRecvfrom:    "receives datagrams; answers the first peer, or every one with fork",
	UnixConnect:    "connects to a Unix stream socket",
	UnixListen:     "listens on a Unix stream socket",
	UnixSendto:     "sends datagrams to a Unix datagram socket",
	UnixRecvfrom:   "receives on a Unix datagram socket",
	Stdio:          "reads stdin and writes stdout",
	Stdin:          "reads stdin (what is sent to it is discarded)",
	Stdout:         "writes stdout (reads as empty)",
	Exec:           "runs a program; its stdin and stdout are the stream",
	System:         "runs a command through /bin/sh -c; its stdin and stdout are the stream",
	File:           "opens an existing file for reading and writing",
	Create:         "creates (or truncates) a file and writes it",
	Gopen:          "opens a file, or connects if the path is a Unix socket",
	Pipe:           "a named pipe at the path, or with no path an unnamed pipe that echoes",
	PTY:            "a new pseudo-terminal; another program opens its other side (see link)",
	OpenSSL:        "connects to a TLS server and verifies it (system roots, cafile, or pin)",
	OpenSSLListen:  "listens for TLS connections (cert, or a temporary self-signed one)",
	Stderr:         "writes stderr (reads as empty)",
	FD:             "a descriptor the process inherited",
	UDPRecv:        "receives datagrams from anyone on a port; sends nothing",
	UDPDatagram:    "sends datagrams to one address (broadcast and multicast too), receives from anyone",
	UnixRecv:       "receives datagrams on a Unix socket; sends nothing",
	UnixClient:     "connects to a Unix socket, stream or datagram",
	IPSendto:       "sends raw IP packets of a protocol to a host (root)",
	IPRecvfrom:     "receives raw IP packets of a protocol; answers the first sender, or every one with fork (root)",
	IPRecv:         "receives raw IP packets of a protocol from anyone (root)",
	IPDatagram:     "sends raw IP packets to one address, receives from anyone (root)",
	Interface:      "whole link-level frames on a network interface (root)",
	TUN:            "a new TUN or TAP interface: packets in and out (root)",
	VsockConnect:   "connects to a VSOCK port of a virtual machine or its host (cid 2)",
	VsockListen:    "listens on a VSOCK port",
	SocketConnect:  "a stream socket of any domain and protocol, connected to a raw address",
	SocketListen:   "a stream socket of any domain and protocol, listening on a raw address",
	SocketSendto:   "a socket of any domain, type and protocol, sending to a raw address",
	SocketRecvfrom: "a socket of any domain, type and protocol, answering the first sender",
	SocketRecv:     "a socket of any domain, type and protocol, receiving only",
	SocketDatagram: "a socket of any domain, type and protocol, sending to a raw address and receiving from anyone",
}

// Usage returns the address head for a type name as socat's -h shows it,
// such as "TCP-LISTEN:<port>" or "PIPE[:<filename>]".
func Usage(name string) string {
	canon, entries := lookupType(name)
	var ps []socatParam
	switch {
	case len(entries) > 0:
		ps = entries[len(entries)-1].params
		if len(entries) > 1 { // pipe, with or without a file name
			ps = []socatParam{{ps[0].name, true}}
		}
	case extensions[canon] != "":
		for _, p := range params[extensions[canon]] {
			ps = append(ps, socatParam{name: p})
		}
	default:
		return ""
	}
	var b strings.Builder
	b.WriteString(strings.ToUpper(name))
	for _, p := range ps {
		if p.optional {
			fmt.Fprintf(&b, "[:<%s>]", p.name)
		} else {
			fmt.Fprintf(&b, ":<%s>", p.name)
		}
	}
	return b.String()
}

// Explain describes how s was read: its type, each parameter by name
// as the lexer left it (quotes and escapes resolved), and each option with
// what it does, ending with the canonical spelling. A dual address (A!!B)
// is explained half by half.
func (s Spec) Explain() string {
	if s.Writer != nil {
		r := s
		r.Writer = nil
		var b strings.Builder
		b.WriteString("dual       reads from the first address, writes to the second (socat's A!!B)\n")
		b.WriteString("read from:\n")
		b.WriteString(indent(r.explainOne()))
		b.WriteString("write to:\n")
		b.WriteString(indent(s.Writer.explainOne()))
		fmt.Fprintf(&b, "canonical  %s\n", s)
		return b.String()
	}
	return s.explainOne() + fmt.Sprintf("canonical  %s\n", s)
}

func indent(text string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n  ") + "\n"
}

func (s Spec) explainOne() string {
	var b strings.Builder
	fmt.Fprintf(&b, "type       %s: %s\n", s.Kind, about[s.Kind])
	for i, a := range s.Args {
		name := "param"
		if names := paramNames(s.Kind); i < len(names) {
			name = names[i]
		}
		fmt.Fprintf(&b, "%-10s %q\n", name, a)
	}
	for _, o := range s.Options {
		v := o.Value
		switch {
		case v == "":
			v = "on"
		case strings.ContainsAny(v, " \t\n'\"\\,:"):
			v = strconv.Quote(v) // show exactly what the lexer left
		}
		help := options[o.Name].help
		if o.Name == "pf" {
			help = "address family (from the type name, or the option)"
		}
		fmt.Fprintf(&b, "option     %s = %s: %s\n", o.Name, v, help)
	}
	return b.String()
}

// paramNames names a kind's parameters: socat's names, or sockit's for
// its own kinds.
func paramNames(k Kind) []string {
	if p, ok := params[k]; ok {
		return p
	}
	_, entries := lookupType(string(k))
	if len(entries) == 0 {
		return nil
	}
	var out []string
	for _, p := range entries[len(entries)-1].params {
		out = append(out, p.name)
	}
	return out
}
