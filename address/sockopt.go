package address

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Sockopt is a socat option that is one setsockopt(2) call with an int.
type Sockopt struct {
	Level, Name int
}

// sockopts are socat's options that set one int socket option, by
// socat's name. Each applies before bind or connect (socat's PREBIND and
// PASTSOCKET phases); Linux passes them from a listening socket to the
// sockets it accepts.
var sockopts = map[string]struct {
	Sockopt
	kinds []Kind
}{
	"so-debug": {Sockopt{unix.SOL_SOCKET, unix.SO_DEBUG}, socketKinds}, "so-dontroute": {Sockopt{unix.SOL_SOCKET, unix.SO_DONTROUTE}, socketKinds},
	"so-broadcast": {Sockopt{unix.SOL_SOCKET, unix.SO_BROADCAST}, socketKinds}, "so-oobinline": {Sockopt{unix.SOL_SOCKET, unix.SO_OOBINLINE}, socketKinds},
	"so-passcred": {Sockopt{unix.SOL_SOCKET, unix.SO_PASSCRED}, socketKinds}, "so-priority": {Sockopt{unix.SOL_SOCKET, unix.SO_PRIORITY}, socketKinds},
	"so-rcvlowat": {Sockopt{unix.SOL_SOCKET, unix.SO_RCVLOWAT}, socketKinds}, "so-sndlowat": {Sockopt{unix.SOL_SOCKET, unix.SO_SNDLOWAT}, socketKinds},
	"so-timestamp": {Sockopt{unix.SOL_SOCKET, unix.SO_TIMESTAMP}, socketKinds}, "so-no-check": {Sockopt{unix.SOL_SOCKET, unix.SO_NO_CHECK}, socketKinds},
	"so-rcvbuf-late": {Sockopt{unix.SOL_SOCKET, unix.SO_RCVBUF}, socketKinds}, "so-sndbuf-late": {Sockopt{unix.SOL_SOCKET, unix.SO_SNDBUF}, socketKinds},
	"so-bsdcompat": {Sockopt{unix.SOL_SOCKET, unix.SO_BSDCOMPAT}, socketKinds},
	"ip-tos":       {Sockopt{unix.IPPROTO_IP, unix.IP_TOS}, ipKinds}, "ip-ttl": {Sockopt{unix.IPPROTO_IP, unix.IP_TTL}, ipKinds},
	"ip-freebind": {Sockopt{unix.IPPROTO_IP, unix.IP_FREEBIND}, ipKinds}, "ip-hdrincl": {Sockopt{unix.IPPROTO_IP, unix.IP_HDRINCL}, ipKinds},
	"ip-mtu-discover":   {Sockopt{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER}, ipKinds},
	"ip-multicast-loop": {Sockopt{unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP}, ipKinds},
	"ip-multicast-ttl":  {Sockopt{unix.IPPROTO_IP, unix.IP_MULTICAST_TTL}, ipKinds},
	"ip-pktinfo":        {Sockopt{unix.IPPROTO_IP, unix.IP_PKTINFO}, ipKinds}, "ip-recverr": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVERR}, ipKinds},
	"ip-recvopts": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVOPTS}, ipKinds}, "ip-recvtos": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVTOS}, ipKinds},
	"ip-recvttl": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVTTL}, ipKinds}, "ip-retopts": {Sockopt{unix.IPPROTO_IP, unix.IP_RETOPTS}, ipKinds},
	"ip-router-alert": {Sockopt{unix.IPPROTO_IP, unix.IP_ROUTER_ALERT}, ipKinds},
	"ip-transparent":  {Sockopt{unix.IPPROTO_IP, unix.IP_TRANSPARENT}, ipKinds},
	"ipv6-v6only":     {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY}, ipKinds}, "ipv6-unicast-hops": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS}, ipKinds},
	"ipv6-tclass": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_TCLASS}, ipKinds}, "ipv6-recvpktinfo": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO}, ipKinds},
	"ipv6-recvhoplimit": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT}, ipKinds},
	"ipv6-recvtclass":   {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS}, ipKinds},
	"ipv6-recverr":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVERR}, ipKinds},
	"ipv6-recvrthdr":    {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVRTHDR}, ipKinds},
	"ipv6-recvhopopts":  {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS}, ipKinds},
	"ipv6-recvdstopts":  {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVDSTOPTS}, ipKinds},
	"ipv6-recvpathmtu":  {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVPATHMTU}, ipKinds},
	"ipv6-pktinfo":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292PKTINFO}, ipKinds},
	"ipv6-hoplimit":     {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292HOPLIMIT}, ipKinds},
	"ipv6-rthdr":        {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292RTHDR}, ipKinds},
	"ipv6-hopopts":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292HOPOPTS}, ipKinds},
	"ipv6-dstopts":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292DSTOPTS}, ipKinds},
	"ipv6-authhdr":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_AUTHHDR}, ipKinds},
	"tcp-cork":          {Sockopt{unix.IPPROTO_TCP, unix.TCP_CORK}, tcpKinds}, "tcp-defer-accept": {Sockopt{unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT}, tcpKinds},
	"tcp-keepcnt": {Sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPCNT}, tcpKinds}, "tcp-keepidle": {Sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE}, tcpKinds},
	"tcp-keepintvl": {Sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL}, tcpKinds}, "tcp-linger2": {Sockopt{unix.IPPROTO_TCP, unix.TCP_LINGER2}, tcpKinds},
	"tcp-maxseg": {Sockopt{unix.IPPROTO_TCP, unix.TCP_MAXSEG}, tcpKinds}, "tcp-maxseg-late": {Sockopt{unix.IPPROTO_TCP, unix.TCP_MAXSEG}, tcpKinds},
	"tcp-quickack": {Sockopt{unix.IPPROTO_TCP, unix.TCP_QUICKACK}, tcpKinds}, "tcp-syncnt": {Sockopt{unix.IPPROTO_TCP, unix.TCP_SYNCNT}, tcpKinds},
	"tcp-window-clamp": {Sockopt{unix.IPPROTO_TCP, unix.TCP_WINDOW_CLAMP}, tcpKinds},
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
