package proxyserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sockit/sockit/internal/httpauth"
)

// Limits on what a client may send before its request is refused.
const (
	maxRequestLine = 8 << 10  // RFC 9112 §3: at least 8000 octets
	maxHeaderBytes = 64 << 10 // the whole header section
	maxChunkLine   = 4 << 10  // a chunk-size line with its extensions
)

// statusError is a refusal with the HTTP status that tells it.
type statusError struct {
	code int
	msg  string
	err  error // the cause, when there is one
}

func (e *statusError) Unwrap() error { return e.err }

func (e *statusError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.code, http.StatusText(e.code), e.msg)
}

func refuse(code int, format string, a ...any) error {
	return &statusError{code: code, msg: fmt.Sprintf(format, a...)}
}

var errLineTooLong = errors.New("line too long")

// field is one header line, its name as sent.
type field struct{ name, value string }

// message is the head of a request or a response: its first line's three
// parts and its fields in the order received.
type message struct {
	first  [3]string // method, target, version; or version, code, reason
	fields []field
}

// values returns every value of the named field, in order.
func (m *message) values(name string) []string {
	var out []string
	for _, f := range m.fields {
		if strings.EqualFold(f.name, name) {
			out = append(out, f.value)
		}
	}
	return out
}

// list returns the elements of a comma-separated list field, trimmed and
// in lower case.
func (m *message) list(name string) []string {
	var out []string
	for _, v := range m.values(name) {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// hopByHop returns the fields a proxy must not forward (RFC 9110 §7.6.1):
// Connection and the fields it names, and the fixed hop-by-hop set.
// Transfer-Encoding is not among them: a chunked body is passed as is.
func (m *message) hopByHop() map[string]bool {
	drop := map[string]bool{"connection": true, "proxy-connection": true, "keep-alive": true,
		"te": true, "trailer": true, "upgrade": true, "proxy-authorization": true, "proxy-authenticate": true}
	for _, n := range append(m.list("connection"), m.list("proxy-connection")...) {
		if n != "transfer-encoding" && n != "content-length" && n != "host" {
			drop[n] = true
		}
	}
	return drop
}

// readLine reads one line of at most limit bytes and returns it without
// its CRLF (or bare LF, which RFC 9112 §2.2 lets a recipient accept).
func readLine(br *bufio.Reader, limit int) (string, error) {
	var line []byte
	for {
		b, err := br.ReadSlice('\n')
		if len(line)+len(b) > limit {
			return "", errLineTooLong
		}
		line = append(line, b...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		return string(line), nil
	}
}

// readHead reads a first line (split in three at its first two spaces)
// and the header fields after it, refusing what RFC 9112 says a server
// must or may refuse: obsolete line folding, whitespace before a colon,
// a name that is not a token, control characters in a value.
func readHead(br *bufio.Reader, request bool) (*message, error) {
	var line string
	var err error
	for range 4 { // RFC 9112 §2.2: ignore empty lines before a request
		if line, err = readLine(br, maxRequestLine); err != nil || line != "" {
			break
		}
	}
	switch {
	case err == errLineTooLong:
		return nil, refuse(http.StatusRequestURITooLong, "request line longer than %d bytes", maxRequestLine)
	case err != nil:
		return nil, err
	}
	m := &message{}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 3 || (request && strings.Contains(parts[2], " ")) {
		return nil, refuse(http.StatusBadRequest, "malformed first line %q", truncate(line))
	}
	copy(m.first[:], parts)
	version := parts[0]
	if request {
		version = parts[2]
		if !isToken(parts[0]) || parts[1] == "" {
			return nil, refuse(http.StatusBadRequest, "malformed request line %q", truncate(line))
		}
	}
	if version != "HTTP/1.1" && version != "HTTP/1.0" {
		if major, _, ok := strings.Cut(strings.TrimPrefix(version, "HTTP/"), "."); ok && len(major) == 1 && major >= "0" && major <= "9" {
			return nil, refuse(http.StatusHTTPVersionNotSupported, "version %q", truncate(version))
		}
		return nil, refuse(http.StatusBadRequest, "malformed first line %q", truncate(line))
	}
	left := maxHeaderBytes
	for {
		line, err := readLine(br, left)
		switch {
		case err == errLineTooLong:
			return nil, refuse(http.StatusRequestHeaderFieldsTooLarge, "header section longer than %d bytes", maxHeaderBytes)
		case err != nil:
			return nil, err
		case line == "":
			return m, nil
		case line[0] == ' ' || line[0] == '\t':
			return nil, refuse(http.StatusBadRequest, "obsolete line folding")
		}
		left -= len(line) + 2
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isToken(name) {
			return nil, refuse(http.StatusBadRequest, "malformed header line %q", truncate(line))
		}
		value = strings.Trim(value, " \t")
		for i := 0; i < len(value); i++ {
			if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
				return nil, refuse(http.StatusBadRequest, "control character in %s", name)
			}
		}
		m.fields = append(m.fields, field{name, value})
	}
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if !httpauth.IsTokenChar(s[i]) {
			return false
		}
	}
	return s != ""
}

// framing is how a message's body ends (RFC 9112 §6.3).
type framing struct {
	chunked bool
	length  int64 // with !chunked: bytes to copy; -1 until the sender closes
}

// requestFraming reads a request's body length, refusing the ambiguous
// forms request smuggling is made of: Transfer-Encoding together with
// Content-Length, a final coding other than chunked, or Content-Length
// values that differ.
func requestFraming(m *message) (framing, error) {
	te := m.list("transfer-encoding")
	cl := m.list("content-length")
	switch {
	case len(te) > 0 && len(cl) > 0:
		return framing{}, refuse(http.StatusBadRequest, "both Transfer-Encoding and Content-Length")
	case len(te) > 0 && te[len(te)-1] != "chunked":
		return framing{}, refuse(http.StatusBadRequest, "Transfer-Encoding %q does not end in chunked", strings.Join(te, ", "))
	case len(te) > 0:
		return framing{chunked: true}, nil
	case len(cl) > 0:
		n, err := contentLength(cl)
		if err != nil {
			return framing{}, refuse(http.StatusBadRequest, "%v", err)
		}
		return framing{length: n}, nil
	}
	return framing{length: 0}, nil
}

// responseFraming reads a response's body length, given the request's
// method: HEAD and 1xx, 204 and 304 responses have none.
func responseFraming(m *message, method string) (framing, error) {
	code := m.first[1]
	if method == http.MethodHead || code[0] == '1' || code == "204" || code == "304" {
		return framing{length: 0}, nil
	}
	if te := m.list("transfer-encoding"); len(te) > 0 {
		if te[len(te)-1] == "chunked" {
			return framing{chunked: true}, nil
		}
		return framing{length: -1}, nil
	}
	if cl := m.list("content-length"); len(cl) > 0 {
		n, err := contentLength(cl)
		return framing{length: n}, err
	}
	return framing{length: -1}, nil
}

func contentLength(values []string) (int64, error) {
	for _, v := range values[1:] {
		if v != values[0] {
			return 0, fmt.Errorf("Content-Length values differ: %s", strings.Join(values, ", "))
		}
	}
	n, err := strconv.ParseInt(values[0], 10, 64)
	if err != nil || n < 0 || values[0][0] == '+' {
		return 0, fmt.Errorf("bad Content-Length %q", values[0])
	}
	return n, nil
}

// copyBody copies one body from br to w as framed, byte for byte: a
// chunked body keeps its chunk lines, extensions and trailers.
func copyBody(w *bufio.Writer, br *bufio.Reader, f framing) error {
	defer w.Flush()
	switch {
	case f.chunked:
		return copyChunked(w, br)
	case f.length < 0:
		_, err := io.Copy(w, br)
		return err
	default:
		_, err := io.CopyN(w, br, f.length)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
}

func copyChunked(w *bufio.Writer, br *bufio.Reader) error {
	for {
		line, err := readLine(br, maxChunkLine)
		if err != nil {
			return fmt.Errorf("chunk size: %w", err)
		}
		sizeText, _, _ := strings.Cut(line, ";")
		size, err := strconv.ParseUint(strings.TrimRight(sizeText, " \t"), 16, 62)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", truncate(line))
		}
		fmt.Fprintf(w, "%s\r\n", line)
		if size == 0 {
			break
		}
		if _, err := io.CopyN(w, br, int64(size)); err != nil {
			return fmt.Errorf("chunk: %w", err)
		}
		if end, err := readLine(br, 2); err != nil || end != "" {
			return errors.New("chunk not followed by CRLF")
		}
		w.WriteString("\r\n")
		if err := w.Flush(); err != nil {
			return err
		}
	}
	for { // trailer section
		line, err := readLine(br, maxHeaderBytes)
		if err != nil {
			return fmt.Errorf("trailer: %w", err)
		}
		fmt.Fprintf(w, "%s\r\n", line)
		if line == "" {
			return nil
		}
	}
}
