// Package address holds Spec, the one description of an endpoint that both
// personalities build: socat's address strings ("TCP:host:80,bind=...") are
// parsed into it, and ncat's flags are translated into it.
//
// Spec.String re-parses to an equal Spec.
package address

import (
	"fmt"
	"strconv"
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
	// socat's types beyond the core.
	Stderr      Kind = "STDERR"
	FD          Kind = "FD"
	UDPRecv     Kind = "UDP-RECV"
	UDPDatagram Kind = "UDP-DATAGRAM"
	UnixRecv    Kind = "UNIX-RECV"
	UnixClient  Kind = "UNIX-CLIENT"
	IPSendto    Kind = "IP-SENDTO"
	IPRecvfrom  Kind = "IP-RECVFROM"
	IPRecv      Kind = "IP-RECV"
	IPDatagram  Kind = "IP-DATAGRAM"
	Interface   Kind = "INTERFACE"
	TUN         Kind = "TUN"
	// VSOCK: sockets between a virtual machine and its host.
	VsockConnect Kind = "VSOCK-CONNECT"
	VsockListen  Kind = "VSOCK-LISTEN"
	// socat's generic sockets: domain, type and protocol as numbers.
	SocketConnect  Kind = "SOCKET-CONNECT"
	SocketListen   Kind = "SOCKET-LISTEN"
	SocketSendto   Kind = "SOCKET-SENDTO"
	SocketRecvfrom Kind = "SOCKET-RECVFROM"
	SocketRecv     Kind = "SOCKET-RECV"
	SocketDatagram Kind = "SOCKET-DATAGRAM"
)

// Kinds lists the address type names Parse accepts: socat's types and
// aliases, and sockit's own, in lower case as socat's -h shows them.
func Kinds() []string { return socatKeywords() }

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
	// Writer is the second half of socat's dual form "A!!B": the spec is
	// then read from, and Writer written to. Nil for a single address.
	Writer *Spec
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
	// Socat is the message in socat's own words, for the socat link
	// (`unknown device/address "foo"`).
	Socat string
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

// Parse reads a socat address: TYPE[:param...][,option[=value]...], or
// two of them as "A!!B" (read from A, write to B). It lexes as socat does
// (see lexer): 'hard' and "soft" quotes, nesting ( ) [ ] { }, and
// backslash escapes. A bare number is FD:n, and a first word with a '/'
// is GOPEN:path. Type and option names are case-insensitive and take
// every alias socat takes.
func Parse(in string) (Spec, error) { return Parser{}.Parse(in) }

// Parser reads addresses with settings; the zero Parser is Parse's.
type Parser struct {
	// AnyGroup accepts an option outside its address type's option groups,
	// as socat's -g does.
	AnyGroup bool
}

// Parse reads one address, single or dual.
func (p Parser) Parse(in string) (Spec, error) {
	l := &lexer{in: in}
	s, err := p.single(l)
	if err != nil {
		return Spec{}, err
	}
	if l.at("!!") {
		l.pos += 2
		w, err := p.single(l)
		if err != nil {
			return Spec{}, err
		}
		if l.pos < len(l.in) {
			return Spec{}, &Error{Input: in, Token: l.rest(), Msg: "a dual address has two halves, got more:",
				Socat: "unexpected characters after address: " + strconv.Quote(l.rest())}
		}
		s.Writer = &w
	}
	if l.pos < len(l.in) {
		return Spec{}, &Error{Input: in, Token: l.rest(), Msg: "unexpected text after the address:",
			Socat: "syntax error in address " + strconv.Quote(in)}
	}
	return s, nil
}

// single reads one address up to the end or "!!".
func (p Parser) single(l *lexer) (Spec, error) {
	start := l.pos
	text := func() string { return l.in[start:l.pos] }
	fail := func(err error) (Spec, error) {
		if err == errUnexpectedEnd {
			return Spec{}, &Error{Input: l.in, Token: l.in[start:], Msg: "unexpected end of address in",
				Hint: "a quote is not closed, or a backslash ends it", Socat: "unexpected end of address " + strconv.Quote(l.in)}
		}
		return Spec{}, err
	}
	keyword, err := l.token(":", ",", "!!")
	if err != nil {
		return fail(err)
	}
	var args []string
	for l.at(":") {
		l.pos++
		a, err := l.token(":", ",", "!!")
		if err != nil {
			return fail(err)
		}
		args = append(args, a)
	}
	var opts []Option
	for l.at(",") {
		l.pos++
		n, err := l.token("=", ",", "!!")
		if err != nil {
			return fail(err)
		}
		v := ""
		hasValue := l.at("=")
		if hasValue {
			l.pos++
			if v, err = l.token(",", "!!"); err != nil {
				return fail(err)
			}
		}
		if n == "" && !hasValue {
			continue // "a,,b" and a trailing comma: socat skips them
		}
		opts = append(opts, Option{Name: n, Value: v})
	}
	in := text()
	if in == "" {
		return Spec{}, &Error{Input: l.in, Token: l.in, Msg: "empty address in", Socat: "empty address"}
	}
	canon, entries := lookupType(keyword)
	var s Spec
	if kind, ok := extensions[canon]; ok {
		s.Kind = kind
		if len(args) != len(params[kind]) {
			return Spec{}, &Error{Input: in, Token: in, Msg: fmt.Sprintf("%s wants %d parameter(s) in", kind, len(params[kind])),
				Hint: Usage(keyword), Socat: fmt.Sprintf("%s: wrong number of parameters (%d instead of %d)", keyword, len(args), len(params[kind]))}
		}
	} else {
		shown := keyword // socat names the type as it was typed
		if len(entries) == 0 {
			switch {
			case keyword != "" && strings.Trim(keyword, "0123456789") == "":
				canon, args, shown = "fd", append([]string{keyword}, args...), "FD"
			case strings.Contains(keyword, "/"):
				canon, args, shown = "gopen", append([]string{keyword}, args...), "GOPEN"
			}
			_, entries = lookupType(canon)
		}
		why, isRefused := refused[canon]
		if len(entries) == 0 && !isRefused {
			hint := suggestAs(keyword, Kinds())
			msg := fmt.Sprintf("unknown device/address %q", keyword)
			if hint != "" {
				msg += " (" + hint + ")"
			}
			return Spec{}, &Error{Input: in, Token: keyword, Msg: "unknown address type", Hint: hint, Socat: msg}
		}
		if isRefused {
			return Spec{}, &Error{Input: in, Token: keyword, Msg: "address type not supported:", Hint: why,
				Socat: fmt.Sprintf("address type %q is not supported: %s", keyword, why)}
		}
		entry, ok := entryFor(entries, len(args))
		if canon == "system" && len(args) > 1 {
			// socat runs "echo a" of SYSTEM:echo a:b; sockit keeps the
			// colon (CommandFor joins the parameters again).
			entry, ok = entries[0], true
		}
		if !ok {
			want := len(entries[0].params)
			got := len(args)
			switch canon {
			case "create", "gopen", "open":
				got++ // socat 1.7.4 counts the type name too for these
			}
			return Spec{}, &Error{Input: in, Token: in, Msg: fmt.Sprintf("%s wants %d parameter(s) in", strings.ToUpper(shown), want),
				Hint: Usage(shown), Socat: fmt.Sprintf("%s: wrong number of parameters (%d instead of %d)", shown, got, want)}
		}
		k := kindOf[canon]
		s.Kind = k.kind
		switch k.family {
		case "4":
			s.Options = append(s.Options, Option{"pf", "ip4"})
		case "6":
			s.Options = append(s.Options, Option{"pf", "ip6"})
		case "abstract":
			s.Options = append(s.Options, Option{"abstract", ""})
		}
		if err := p.checkGroups(in, entry, opts); err != nil {
			return Spec{}, err
		}
	}
	s.Args = args
	for _, o := range opts {
		s.Options = append(s.Options, Option{strings.ToLower(o.Name), o.Value})
	}
	if err := validate(in, &s, p.AnyGroup); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// suggestAs is suggest with the answer in the case of the question.
func suggestAs(s string, candidates []string) string {
	h := Suggest(s, candidates)
	if h != "" && s == strings.ToUpper(s) {
		h = "did you mean " + strings.ToUpper(strings.TrimPrefix(h, "did you mean "))
		h = strings.TrimSuffix(h, "?") + "?"
	}
	return h
}

// entryFor picks the entry of an address type that takes n parameters.
func entryFor(entries []socatAddr, n int) (socatAddr, bool) {
	for _, e := range entries {
		need, opt := 0, 0
		for _, p := range e.params {
			if p.optional {
				opt++
			} else {
				need++
			}
		}
		if n >= need && n <= need+opt {
			return e, true
		}
	}
	return socatAddr{}, false
}

// checkGroups refuses an option that socat knows but does not allow with
// the address type, in socat's words, unless AnyGroup is set.
func (p Parser) checkGroups(in string, a socatAddr, opts []Option) error {
	if p.AnyGroup {
		return nil
	}
	for _, o := range opts {
		so, ok := socatOpts[canonicalOption(o.Name)]
		if !ok || inGroups(so.groups, a.groups) {
			continue
		}
		return &Error{Input: in, Token: o.Name, Msg: fmt.Sprintf("option does not apply to %s:", strings.ToUpper(a.name)),
			Hint:  "its groups are " + so.groups + ", the address's " + a.groups,
			Socat: fmt.Sprintf("parseopts_table(): option %q not supported with this address type", o.Name)}
	}
	return nil
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
	if s.Writer != nil {
		b.WriteString("!!")
		b.WriteString(s.Writer.String())
	}
	return b.String()
}

// quote returns s as one token: as it is when nothing in it is special,
// else in hard quotes with socat's escapes.
func quote(s string) string {
	if s != "" && !strings.ContainsAny(s, `:,='"\[](){}!`+"\a\b\f\n\r\t\v") {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range []byte(s) {
		switch c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\a', '\b', '\f', '\n', '\r', '\t', '\v':
			b.WriteByte('\\')
			b.WriteByte("abfnrtv"[strings.IndexByte("\a\b\f\n\r\t\v", c)])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
