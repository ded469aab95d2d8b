package hub

import (
	"bytes"
	"strconv"
	"testing"
)

func TestAppendChat(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"hi\n", "<user4> hi\n"},
		{"a\nb\n", "<user4> a\n<user4> b\n"},
		{"tab\tcr\r\n", "<user4> tab\tcr\r\n"},
		{"\x00\x1b[31m\x7f\n", `<user4> \000\033[31m\177` + "\n"},
		{"caf\xc3\xa9\n", `<user4> caf\303\251` + "\n"},
		{`back\slash`, `<user4> back\slash`},
		{"no newline", "<user4> no newline"},
		{"\n", "<user4> \n"},
	} {
		if got := string(appendChat(nil, 4, "", []byte(tc.in))); got != tc.want {
			t.Errorf("appendChat(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := string(appendChat(nil, 4, "b", []byte("hi\nyou\n"))); got != "<user4@b> hi\n<user4@b> you\n" {
		t.Errorf("with a node: %q", got)
	}
}

// unchat undoes appendChat for one sender: it drops each line's prefix and
// turns three-digit octal escapes back into bytes. (Backslashes are not
// escaped, so a literal backslash followed by three octal digits reads
// back wrong; the fuzz target keeps to inputs without one.)
func unchat(t *testing.T, prefix, out []byte) []byte {
	var in []byte
	for len(out) > 0 {
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("line %q lacks the prefix %q", out, prefix)
		}
		out = out[len(prefix):]
		line := out
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			line, out = out[:i+1], out[i+1:]
		} else {
			out = nil
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '\\' && i+3 < len(line) {
				if v, err := strconv.ParseUint(string(line[i+1:i+4]), 8, 8); err == nil {
					in = append(in, byte(v))
					i += 3
					continue
				}
			}
			if c != '\t' && c != '\r' && c != '\n' && (c < ' ' || c >= 0x7f) {
				t.Fatalf("unescaped byte %#x in %q", c, line)
			}
			in = append(in, c)
		}
	}
	return in
}

// FuzzChat checks that a chat line says exactly what was sent, with every
// line prefixed and no control character passed through.
func FuzzChat(f *testing.F) {
	for _, s := range []string{"hi\n", "a\nb", "\x00\x01\xff\n\n", "\r\n\t", "caf\xc3\xa9"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 || bytes.IndexByte(in, '\\') >= 0 {
			return
		}
		out := appendChat(nil, 17, "", in)
		if got := unchat(t, []byte("<user17> "), out); !bytes.Equal(got, in) {
			t.Fatalf("appendChat(%q) = %q, which reads back as %q", in, out, got)
		}
	})
}
