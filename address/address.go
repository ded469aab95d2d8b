// Package address holds Spec, the one description of an endpoint that both
// personalities build: socat's address strings ("TCP:host:80,bind=...") are
// parsed into it, and ncat's flags are translated into it.
//
// Spec.String re-parses to an equal Spec.
package address

import (
	"fmt"
	"sort"
	"strings"
)

// Kind is the canonical, upper-case address type, such as "TCP-LISTEN".
type Kind string

// The kinds the core knows.
const (
	TCP           Kind = "TCP"
	TCPListen     Kind = "TCP-LISTEN"
	UDP           Kind = "UDP"
	UDPListen     Kind = "UDP-LISTEN"
	UnixConnect   Kind = "UNIX-CONNECT"
	UnixListen    Kind = "UNIX-LISTEN"
	UnixSendto    Kind = "UNIX-SENDTO"
	UnixRecvfrom  Kind = "UNIX-RECVFROM"
	UDPSendto     Kind = "UDP-SENDTO"
	UDPRecvfrom   Kind = "UDP-RECVFROM"
	Stdio         Kind = "STDIO"
	Stdin         Kind = "STDIN"
	Stdout        Kind = "STDOUT"
	Exec          Kind = "EXEC"
	System        Kind = "SYSTEM"
	File          Kind = "OPEN"
	Create        Kind = "CREATE"
	Gopen         Kind = "GOPEN"
	Pipe          Kind = "PIPE"
	PTY           Kind = "PTY"
	Socks4        Kind = "SOCKS4"
	Socks4A       Kind = "SOCKS4A"
	Socks5        Kind = "SOCKS5"
	Proxy         Kind = "PROXY"
	OpenSSL       Kind = "OPENSSL"
	OpenSSLListen Kind = "OPENSSL-LISTEN"
)

// optional marks a kind whose one parameter may be left out (PIPE).
const optional = -1

// kinds maps every accepted name (aliases included) to its kind, the
// number of colon-separated parameters it takes, and a forced family.
var kinds = map[string]struct {
	kind   Kind
	params int
	family string
}{
	"TCP": {TCP, 2, ""}, "TCP4": {TCP, 2, "4"}, "TCP6": {TCP, 2, "6"},
	"TCP-CONNECT": {TCP, 2, ""},
	"TCP-LISTEN":  {TCPListen, 1, ""}, "TCP4-LISTEN": {TCPListen, 1, "4"}, "TCP6-LISTEN": {TCPListen, 1, "6"},
	"TCP-L": {TCPListen, 1, ""},
	"UDP":   {UDP, 2, ""}, "UDP4": {UDP, 2, "4"}, "UDP6": {UDP, 2, "6"},
	"UDP-CONNECT": {UDP, 2, ""}, "UDP4-CONNECT": {UDP, 2, "4"}, "UDP6-CONNECT": {UDP, 2, "6"},
	"TCP4-CONNECT": {TCP, 2, "4"}, "TCP6-CONNECT": {TCP, 2, "6"},
	"UDP-LISTEN": {UDPListen, 1, ""}, "UDP4-LISTEN": {UDPListen, 1, "4"}, "UDP6-LISTEN": {UDPListen, 1, "6"},
	"UNIX-CONNECT": {UnixConnect, 1, ""}, "UNIX": {UnixConnect, 1, ""}, "UNIX-CLIENT": {UnixConnect, 1, ""},
	"UNIX-LISTEN": {UnixListen, 1, ""}, "UNIX-L": {UnixListen, 1, ""},
	"UNIX-SENDTO": {UnixSendto, 1, ""}, "UNIX-RECVFROM": {UnixRecvfrom, 1, ""},
	"ABSTRACT-CONNECT": {UnixConnect, 1, "abstract"}, "ABSTRACT-LISTEN": {UnixListen, 1, "abstract"},
	"ABSTRACT-SENDTO": {UnixSendto, 1, "abstract"}, "ABSTRACT-RECVFROM": {UnixRecvfrom, 1, "abstract"},
	"UDP-SENDTO": {UDPSendto, 2, ""}, "UDP4-SENDTO": {UDPSendto, 2, "4"}, "UDP6-SENDTO": {UDPSendto, 2, "6"},
	"UDP-RECVFROM": {UDPRecvfrom, 1, ""}, "UDP4-RECVFROM": {UDPRecvfrom, 1, "4"}, "UDP6-RECVFROM": {UDPRecvfrom, 1, "6"},
	"STDIO": {Stdio, 0, ""}, "-": {Stdio, 0, ""}, "STDIN": {Stdin, 0, ""}, "STDOUT": {Stdout, 0, ""},
	"EXEC": {Exec, 1, ""}, "SYSTEM": {System, 1, ""},
	"OPEN": {File, 1, ""}, "FILE": {File, 1, ""}, "CREATE": {Create, 1, ""}, "CREAT": {Create, 1, ""},
	"GOPEN": {Gopen, 1, ""}, "PIPE": {Pipe, optional, ""}, "FIFO": {Pipe, optional, ""},
	"PTY":    {PTY, 0, ""},
	"SOCKS4": {Socks4, 3, ""}, "SOCKS4A": {Socks4A, 3, ""}, "SOCKS5": {Socks5, 3, ""},
	"SOCKS5-CONNECT": {Socks5, 3, ""}, "PROXY": {Proxy, 3, ""}, "PROXY-CONNECT": {Proxy, 3, ""},
	"OPENSSL": {OpenSSL, 2, ""}, "SSL": {OpenSSL, 2, ""}, "OPENSSL-CONNECT": {OpenSSL, 2, ""},
	"OPENSSL-LISTEN": {OpenSSLListen, 1, ""}, "SSL-L": {OpenSSLListen, 1, ""},
}

// notYet are socat address types sockit does not open, with why; they
// are refused with that reason rather than as unknown.
var notYet = map[string]string{
	"OPENSSL-DTLS-CLIENT": "DTLS", "OPENSSL-DTLS-SERVER": "DTLS",
	"SCTP-CONNECT": "SCTP", "SCTP-LISTEN": "SCTP", "TUN": "TUN", "VSOCK-CONNECT": "VSOCK",
	"VSOCK-LISTEN": "VSOCK", "IP-SENDTO": "raw IP", "IP-RECVFROM": "raw IP",
}

// Kinds lists the address type names Parse accepts, aliases included.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for name := range kinds {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Option is one ",name=value" after the parameters.
type Option struct {
	Name  string
	Value string
}

// Spec describes one endpoint.
type Spec struct {
	// Kind is the address type.
	Kind Kind
	// Args are the positional parameters: host and port for TCP and UDP,
	// the port for listeners, the path for Unix, the command for EXEC.
	Args []string
	// Options are the comma-separated options, in order. Family and
	// abstract namespaces are options too ("pf=ip6", "abstract").
	Options []Option
}

// Opt returns the value of the last option named name and whether it is set.
func (s Spec) Opt(name string) (string, bool) {
	for i := len(s.Options) - 1; i >= 0; i-- {
		if s.Options[i].Name == name {
			return s.Options[i].Value, true
		}
	}
	return "", false
}

// Arg returns the i-th parameter or "".
func (s Spec) Arg(i int) string {
	if i < len(s.Args) {
		return s.Args[i]
	}
	return ""
}

// Error is a parse error that points at the token it is about.
type Error struct {
	Input string // the whole address
	Token string // the offending part of it
	Msg   string // what is wrong with Token
	Hint  string // a suggestion ("did you mean TCP-LISTEN?"), or ""
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("address %q: %s %q", e.Input, e.Msg, e.Token)
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// MustParse is Parse for specs fixed in a program's source: it panics if
// s does not parse.
func MustParse(s string) Spec {
	sp, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return sp
}

// Parse reads a socat-style address: TYPE[:param...][,option[=value]...].
// Type names are case-insensitive; parameters and values may be quoted
// with '...' or "..." or escaped with a backslash, and [...] keeps colons
// (IPv6 literals) together.
func Parse(in string) (Spec, error) {
	parts := split(in, ',')
	head := parts[0]
	name := head
	rest := ""
	if i := indexTop(head, ':'); i >= 0 {
		name, rest = head[:i], head[i+1:]
	}
	upper := strings.ToUpper(unquote(name))
	k, ok := kinds[upper]
	if !ok {
		if what, ok := notYet[upper]; ok {
			return Spec{}, &Error{Input: in, Token: name, Msg: "address type not supported yet:", Hint: "sockit has no " + what + " addresses yet"}
		}
		return Spec{}, &Error{Input: in, Token: name, Msg: "unknown address type", Hint: suggest(upper, Kinds())}
	}
	s := Spec{Kind: k.kind}
	switch k.family {
	case "4":
		s.Options = append(s.Options, Option{"pf", "ip4"})
	case "6":
		s.Options = append(s.Options, Option{"pf", "ip6"})
	case "abstract":
		s.Options = append(s.Options, Option{"abstract", ""})
	}
	var args []string
	switch {
	case k.params > 0:
		args = splitN(rest, ':', k.params)
		if rest == "" || len(args) != k.params {
			return Spec{}, &Error{Input: in, Token: head, Msg: fmt.Sprintf("%s wants %d parameter(s) in", k.kind, k.params),
				Hint: Usage(upper)}
		}
	case k.params == optional:
		if rest != "" {
			args = []string{rest}
		}
	case rest != "":
		return Spec{}, &Error{Input: in, Token: rest, Msg: "takes no parameters, got"}
	}
	for _, a := range args {
		s.Args = append(s.Args, unquote(a))
	}
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		n, v, _ := strings.Cut(p, "=")
		s.Options = append(s.Options, Option{strings.ToLower(unquote(n)), unquote(v)})
	}
	if err := validate(in, &s); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// String returns the spec in socat syntax; Parse reads it back to an equal Spec.
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString(string(s.Kind))
	for _, a := range s.Args {
		b.WriteByte(':')
		b.WriteString(quote(a))
	}
	for _, o := range s.Options {
		b.WriteByte(',')
		b.WriteString(quote(o.Name))
		if o.Value != "" {
			b.WriteByte('=')
			b.WriteString(quote(o.Value))
		}
	}
	return b.String()
}

func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, `:,='"\[]`) {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range []byte(s) {
		if c == '\'' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}

// unquote removes quotes and backslash escapes.
func unquote(s string) string {
	var b strings.Builder
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '\'' || c == '"'):
			q = c
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// scan calls f with the index of every top-level byte (outside quotes,
// brackets and escapes) until f returns false.
func scan(s string, f func(i int) bool) {
	var q byte
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '\'' || c == '"':
			q = c
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			if !f(i) {
				return
			}
		}
	}
}

func indexTop(s string, sep byte) int {
	at := -1
	scan(s, func(i int) bool {
		if s[i] == sep {
			at = i
			return false
		}
		return true
	})
	return at
}

func split(s string, sep byte) []string { return splitN(s, sep, -1) }

// splitN splits at top-level seps into at most n parts (n < 0: all).
func splitN(s string, sep byte, n int) []string {
	var out []string
	from := 0
	scan(s, func(i int) bool {
		if s[i] == sep && (n < 0 || len(out) < n-1) {
			out = append(out, s[from:i])
			from = i + 1
		}
		return true
	})
	return append(out, s[from:])
}
