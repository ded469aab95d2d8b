// Package httpauth holds HTTP authentication as a proxy and its clients
// speak it: Basic (RFC 7617) and Digest (RFC 7616, with the RFC 2069 form
// that has no qop), challenges and credentials parsed from their header
// values. The proxy server (proxyserver) and the CONNECT client
// (endpoint) share it, so that both sides compute a response the same way.
package httpauth

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Challenge is one challenge of a Proxy-Authenticate (or WWW-Authenticate)
// header: a scheme and its parameters, names in lower case.
type Challenge struct {
	Scheme string // "basic", "digest", ... in lower case
	Params map[string]string
}

// ParseChallenges reads every challenge in the given header values; a
// value may hold several ("Basic realm=a, Digest realm=b, nonce=c").
// Malformed parts are skipped, as a client does with what it cannot use.
func ParseChallenges(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := parser{s: v}
		for !p.done() {
			scheme := p.token()
			if scheme == "" {
				p.skipPast(',')
				continue
			}
			ch := Challenge{Scheme: strings.ToLower(scheme), Params: map[string]string{}}
			p.space()
			// token68 (Basic's credentials form) or auth-params.
			for !p.done() {
				save := p.i
				name := p.token()
				p.space()
				if name == "" || !p.eat('=') {
					// The next challenge's scheme, or a token68.
					p.i = save
					if p.i < len(p.s) && p.s[p.i] == ',' {
						p.i++
						p.space()
						continue
					}
					break
				}
				p.space()
				ch.Params[strings.ToLower(name)] = p.value()
				p.space()
				if !p.eat(',') {
					break
				}
				p.space()
			}
			out = append(out, ch)
		}
	}
	return out
}

// Credentials is a parsed Proxy-Authorization value.
type Credentials struct {
	Scheme string            // in lower case
	Token  string            // Basic's base64 token
	Params map[string]string // Digest's parameters, names in lower case
}

// ParseCredentials reads a Proxy-Authorization value: a scheme, compared
// without regard to case, then a token68 or auth-params.
func ParseCredentials(v string) (Credentials, error) {
	p := parser{s: strings.TrimSpace(v)}
	scheme := p.token()
	if scheme == "" {
		return Credentials{}, errors.New("no authentication scheme")
	}
	c := Credentials{Scheme: strings.ToLower(scheme), Params: map[string]string{}}
	if !p.space() && !p.done() {
		return Credentials{}, fmt.Errorf("bad %s credentials", scheme)
	}
	if c.Scheme == "basic" {
		c.Token = strings.TrimSpace(p.s[p.i:])
		return c, nil
	}
	for !p.done() {
		name := p.token()
		p.space()
		if name == "" || !p.eat('=') {
			return Credentials{}, fmt.Errorf("bad %s parameter at %q", scheme, clip(p.s[p.i:]))
		}
		p.space()
		c.Params[strings.ToLower(name)] = p.value()
		p.space()
		if !p.eat(',') && !p.done() {
			return Credentials{}, fmt.Errorf("bad %s parameter at %q", scheme, clip(p.s[p.i:]))
		}
		p.space()
	}
	return c, nil
}

// Basic returns the Proxy-Authorization value for user and password.
func Basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// DecodeBasic decodes Basic's token into user and password. It accepts the
// token with or without its "=" padding.
func DecodeBasic(token string) (user, pass string, err error) {
	b, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(token, "="))
	}
	if err != nil {
		return "", "", errors.New("basic credentials are not base64")
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return "", "", errors.New("basic credentials have no colon")
	}
	return user, pass, nil
}

// newHash returns the hash of a Digest algorithm name ("" is MD5).
func newHash(algorithm string) (func() hash.Hash, bool) {
	switch strings.ToUpper(algorithm) {
	case "", "MD5":
		return md5.New, true
	case "SHA-256":
		return sha256.New, true
	}
	return nil, false
}

func hexHash(h func() hash.Hash, parts ...string) string {
	d := h()
	d.Write([]byte(strings.Join(parts, ":")))
	return hex.EncodeToString(d.Sum(nil))
}

// Response computes Digest's response value for credentials with the
// given parameters (realm, nonce, algorithm, qop, nc, cnonce) answering a
// request with method and uri. Without qop it is RFC 2069's form.
func Response(p map[string]string, user, pass, method, uri string) (string, error) {
	h, ok := newHash(p["algorithm"])
	if !ok {
		return "", fmt.Errorf("digest algorithm %q is not supported", p["algorithm"])
	}
	ha1 := hexHash(h, user, p["realm"], pass)
	ha2 := hexHash(h, method, uri)
	switch p["qop"] {
	case "":
		return hexHash(h, ha1, p["nonce"], ha2), nil
	case "auth":
		return hexHash(h, ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2), nil
	}
	return "", fmt.Errorf("digest qop %q is not supported", p["qop"])
}

// Digest answers a Digest challenge: the Proxy-Authorization value for a
// request with method and uri. It picks qop=auth when the challenge offers
// it and answers in RFC 2069's form when it offers no qop.
func Digest(ch Challenge, user, pass, method, uri string) (string, error) {
	p := map[string]string{
		"realm": ch.Params["realm"], "nonce": ch.Params["nonce"], "algorithm": ch.Params["algorithm"],
	}
	if qops := ch.Params["qop"]; qops != "" {
		offered := false
		for q := range strings.SplitSeq(qops, ",") {
			offered = offered || strings.TrimSpace(q) == "auth"
		}
		if !offered {
			return "", fmt.Errorf("digest challenge offers qop %q, not auth", qops)
		}
		var b [8]byte
		rand.Read(b[:])
		p["qop"], p["nc"], p["cnonce"] = "auth", "00000001", hex.EncodeToString(b[:])
	}
	resp, err := Response(p, user, pass, method, uri)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Digest username=%s, realm=%s, nonce=%s, uri=%s", quote(user), quote(p["realm"]), quote(p["nonce"]), quote(uri))
	if a := ch.Params["algorithm"]; a != "" {
		fmt.Fprintf(&b, ", algorithm=%s", a)
	}
	if p["qop"] != "" {
		fmt.Fprintf(&b, ", qop=auth, nc=%s, cnonce=%s", p["nc"], quote(p["cnonce"]))
	}
	fmt.Fprintf(&b, ", response=%s", quote(resp))
	if o, ok := ch.Params["opaque"]; ok {
		fmt.Fprintf(&b, ", opaque=%s", quote(o))
	}
	return b.String(), nil
}

// Answer picks the challenge a client should answer, Digest before Basic,
// and returns the Proxy-Authorization value for it.
func Answer(chs []Challenge, user, pass, method, uri string) (string, error) {
	for _, ch := range chs {
		if ch.Scheme == "digest" {
			if v, err := Digest(ch, user, pass, method, uri); err == nil {
				return v, nil
			}
		}
	}
	for _, ch := range chs {
		if ch.Scheme == "basic" {
			return Basic(user, pass), nil
		}
	}
	var names []string
	for _, ch := range chs {
		names = append(names, ch.Scheme)
	}
	if len(names) == 0 {
		return "", errors.New("the proxy asks for credentials but offers no scheme")
	}
	return "", fmt.Errorf("the proxy offers %s; sockit speaks Basic and Digest", strings.Join(names, ", "))
}

// quote makes a quoted-string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// parser walks an RFC 9110 header value: tokens, quoted strings, OWS.
type parser struct {
	s string
	i int
}

func (p *parser) done() bool { return p.i >= len(p.s) }

func (p *parser) space() bool {
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
	return p.i > start
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *parser) skipPast(c byte) {
	for p.i < len(p.s) && p.s[p.i] != c {
		p.i++
	}
	p.i++
	p.space()
}

func (p *parser) token() string {
	start := p.i
	for p.i < len(p.s) && IsTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted-string (unescaping it).
func (p *parser) value() string {
	if !p.eat('"') {
		return p.token()
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsTokenChar reports whether c may appear in an RFC 9110 token.
func IsTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
