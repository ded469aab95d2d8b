package address

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Sockopt is a socat option that is one setsockopt(2) call with an int.
type Sockopt struct {
	Level, Name int
}

// sockoptEntry is one row of the sockopts table (sockopt_linux.go;
// empty elsewhere, where the numbers differ).
type sockoptEntry struct {
	Sockopt
	kinds []Kind
}

// SockoptFor returns the setsockopt an option name stands for, if it is
// one of socat's plain int socket options.
func SockoptFor(name string) (Sockopt, bool) {
	o, ok := sockopts[name]
	return o.Sockopt, ok
}

// sockoptOptions are the entries of the sockopts table for the option
// table: each takes a number, or no value for 1.
func sockoptOptions() map[string]optionInfo {
	out := map[string]optionInfo{}
	for name, o := range sockopts {
		typ := number
		if so := socatOpts[name]; so.typ == "BOOL" {
			typ = flag
		}
		out[name] = optionInfo{typ, o.kinds, fmt.Sprintf("setsockopt(level %d, option %d)", o.Level, o.Name)}
	}
	return out
}

// ParseDalan reads socat's <dalan> data notation for setsockopt-bin and
// friends: items of x<hex>, i/I (32-bit), l/L (64-bit), s/S (16-bit) and
// b/B (8-bit) numbers in host byte order, "strings" with C escapes and
// 'c' characters; a bare number is an int. Items may be separated by
// spaces.
func ParseDalan(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == 'x' || c == 'X':
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
				j++
			}
			b, err := hex.DecodeString(s[i+1 : j])
			if err != nil || j == i+1 {
				return nil, fmt.Errorf("dalan %q: want an even number of hex digits after x", s)
			}
			out = append(out, b...)
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			var item []byte
			for ; j < len(s) && s[j] != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
					item = append(item, unescape(s[j]))
					continue
				}
				item = append(item, s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("dalan %q: %c is not closed", s, c)
			}
			if c == '\'' && len(item) != 1 {
				return nil, fmt.Errorf("dalan %q: '...' holds one character", s)
			}
			out = append(out, item...)
			i = j + 1
		default:
			size, signed, j := 4, true, i
			switch c {
			case 'i', 'I', 'l', 'L', 's', 'S', 'b', 'B':
				size = map[byte]int{'i': 4, 'I': 4, 'l': 8, 'L': 8, 's': 2, 'S': 2, 'b': 1, 'B': 1}[c]
				signed = c >= 'a'
				j++
			}
			k := j
			for k < len(s) && strings.IndexByte("+-0123456789abcdefxABCDEFX", s[k]) >= 0 {
				k++
			}
			var v uint64
			if signed {
				n, err := strconv.ParseInt(s[j:k], 0, size*8)
				if err != nil {
					return nil, fmt.Errorf("dalan %q: bad number %q", s, s[j:k])
				}
				v = uint64(n)
			} else {
				n, err := strconv.ParseUint(s[j:k], 0, size*8)
				if err != nil {
					return nil, fmt.Errorf("dalan %q: bad number %q", s, s[j:k])
				}
				v = n
			}
			var buf [8]byte
			binary.NativeEndian.PutUint64(buf[:], v)
			if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 { // big-endian host: the low bytes are last
				out = append(out, buf[8-size:]...)
			} else {
				out = append(out, buf[:size]...)
			}
			i = k
		}
	}
	return out, nil
}
