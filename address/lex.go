package address

import (
	"errors"
	"strings"
)

// errUnexpectedEnd is socat's "unexpected end of address": a quote that
// is never closed, or a backslash at the very end.
var errUnexpectedEnd = errors.New("unexpected end of address")

// lexer reads socat's address syntax as socat 1.7.4's nestlex does:
//   - 'hard quotes' protect everything but backslash escapes;
//   - "soft quotes" protect : , and !! but nest brackets and hard quotes
//     inside them;
//   - ( ) [ ] { } nest and are kept, as are quotes inside them;
//   - a backslash escapes the next byte, with C's \n \r \t \a \b \f \v and
//     \0 (which ends the token, as a C string ends at NUL).
//
// At the top level quotes are dropped and brackets kept: "[::1]" stays,
// "'a:b'" reads as a:b.
type lexer struct {
	in  string
	pos int
}

// rest is what is left to read.
func (l *lexer) rest() string { return l.in[l.pos:] }

// at reports whether the input at the current position starts with s.
func (l *lexer) at(s string) bool { return strings.HasPrefix(l.rest(), s) }

// token reads up to the first of ends found at the top level (not
// consuming it) and returns what it read, quotes dropped.
func (l *lexer) token(ends ...string) (string, error) {
	var b strings.Builder
	if err := l.lex(&b, ends, true, true, true, true); err != nil {
		return "", err
	}
	tok := b.String()
	if i := strings.IndexByte(tok, 0); i >= 0 {
		tok = tok[:i]
	}
	return tok, nil
}

var closers = map[byte]byte{'(': ')', '[': ']', '{': '}'}

// lex is nestlex: it copies input to b until one of ends, handling the
// quotes and nests that are active (hard, soft, nest), dropping the
// quote characters when drop is set.
func (l *lexer) lex(b *strings.Builder, ends []string, hard, soft, nest, drop bool) error {
	for l.pos < len(l.in) {
		for _, e := range ends {
			if l.at(e) {
				return nil
			}
		}
		c := l.in[l.pos]
		switch {
		case hard && c == '\'':
			if err := l.quoted(b, c, drop, false, false, false); err != nil {
				return err
			}
		case soft && c == '"':
			if err := l.quoted(b, c, drop, true, false, true); err != nil {
				return err
			}
		case nest && closers[c] != 0:
			end := closers[c]
			b.WriteByte(c)
			l.pos++
			if err := l.lex(b, []string{string(end)}, hard, soft, nest, false); err != nil {
				return err
			}
			if l.pos < len(l.in) { // socat accepts a nest left open at the end
				b.WriteByte(end)
				l.pos++
			}
		case c == '\\':
			l.pos++
			if l.pos >= len(l.in) {
				return errUnexpectedEnd
			}
			b.WriteByte(unescape(l.in[l.pos]))
			l.pos++
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return nil
}

// quoted reads a quoted section that starts at the current position.
func (l *lexer) quoted(b *strings.Builder, q byte, drop, hard, soft, nest bool) error {
	l.pos++
	if !drop {
		b.WriteByte(q)
	}
	if err := l.lex(b, []string{string(q)}, hard, soft, nest, false); err != nil {
		return err
	}
	if l.pos >= len(l.in) {
		return errUnexpectedEnd
	}
	l.pos++
	if !drop {
		b.WriteByte(q)
	}
	return nil
}

// unescape maps the byte after a backslash as socat's C escapes do.
func unescape(c byte) byte {
	switch c {
	case '0':
		return 0
	case 'a':
		return '\a'
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'v':
		return '\v'
	}
	return c
}

// SplitCommand splits an EXEC command line into words as socat does:
// at spaces, with the same quotes, nests and escapes as addresses, quotes
// dropped. `echo "a b" 'c'` is [echo, a b, c].
func SplitCommand(line string) ([]string, error) {
	l := &lexer{in: line}
	var words []string
	for {
		for l.at(" ") {
			l.pos++
		}
		if l.pos >= len(l.in) {
			return words, nil
		}
		w, err := l.token(" ")
		if err != nil {
			return nil, err
		}
		words = append(words, w)
	}
}
