package endpoint

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/sockit/sockit/stream"
)

// Access decides which peers a listener serves, as ncat's --allow,
// --allowfile, --deny and --denyfile do: with any allow entry only those
// peers are served, and a deny entry refuses a peer even if allowed.
type Access struct {
	allow, deny []hostMatch
}

// hostMatch matches one entry: an address, a CIDR prefix, an IPv4
// pattern with nmap-style octet ranges (192.168.1.1-50, 10.0.*.1), or the
// addresses a host name had when the list was read.
type hostMatch func(netip.Addr) bool

// ParseAccess reads allow and deny entries; each string may hold several
// entries separated by commas.
func ParseAccess(ctx context.Context, allow, deny []string) (*Access, error) {
	a := &Access{}
	for _, list := range []struct {
		in  []string
		out *[]hostMatch
	}{{allow, &a.allow}, {deny, &a.deny}} {
		for _, s := range list.in {
			for _, e := range strings.Split(s, ",") {
				if e = strings.TrimSpace(e); e == "" {
					continue
				}
				m, err := parseHostMatch(ctx, e)
				if err != nil {
					return nil, err
				}
				*list.out = append(*list.out, m)
			}
		}
	}
	return a, nil
}

// ReadHostFile reads a --allowfile or --denyfile as ncat does: entries
// separated by spaces and newlines. sockit also skips # comments (ncat
// refuses a file with them).
func ReadHostFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		out = append(out, strings.Fields(line)...) // ncat's: any number of entries a line
	}
	return out, sc.Err()
}

func parseHostMatch(ctx context.Context, e string) (hostMatch, error) {
	if p, err := netip.ParsePrefix(e); err == nil {
		p = p.Masked()
		return func(a netip.Addr) bool { return p.Contains(a) }, nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
		ip = ip.Unmap()
		return func(a netip.Addr) bool { return a == ip }, nil
	}
	if m, ok, err := octetPattern(e); ok {
		return m, err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", e)
	if err != nil {
		return nil, fmt.Errorf("access list entry %q: not an address, prefix, range or known host", e)
	}
	return func(a netip.Addr) bool {
		for _, ip := range ips {
			if ip.Unmap() == a {
				return true
			}
		}
		return false
	}, nil
}

// octetPattern parses "a.b.c.d" where each octet is a number, "*", or a
// range "lo-hi" (either end may be left out). ok is false when e does not
// look like such a pattern at all.
func octetPattern(e string) (m hostMatch, ok bool, err error) {
	parts := strings.Split(e, ".")
	if len(parts) != 4 {
		return nil, false, nil
	}
	var lo, hi [4]int
	for i, p := range parts {
		if strings.Trim(p, "0123456789-*") != "" || p == "" {
			return nil, false, nil
		}
		switch {
		case p == "*":
			lo[i], hi[i] = 0, 255
		case strings.Contains(p, "-"):
			a, b, _ := strings.Cut(p, "-")
			lo[i], hi[i] = 0, 255
			if a != "" {
				if lo[i], err = octet(a); err != nil {
					return nil, true, fmt.Errorf("access list entry %q: %v", e, err)
				}
			}
			if b != "" {
				if hi[i], err = octet(b); err != nil {
					return nil, true, fmt.Errorf("access list entry %q: %v", e, err)
				}
			}
			if lo[i] > hi[i] {
				return nil, true, fmt.Errorf("access list entry %q: range %s runs backwards", e, p)
			}
		default:
			if lo[i], err = octet(p); err != nil {
				return nil, true, fmt.Errorf("access list entry %q: %v", e, err)
			}
			hi[i] = lo[i]
		}
	}
	return func(a netip.Addr) bool {
		if !a.Is4() {
			return false
		}
		b := a.As4()
		for i := range b {
			if int(b[i]) < lo[i] || int(b[i]) > hi[i] {
				return false
			}
		}
		return true
	}, true, nil
}

func octet(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return 0, fmt.Errorf("%q is not an octet", s)
	}
	return n, nil
}

// Permits reports whether a peer at addr may be served.
func (a *Access) Permits(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, m := range a.deny {
		if m(addr) {
			return false
		}
	}
	if len(a.allow) == 0 {
		return true
	}
	for _, m := range a.allow {
		if m(addr) {
			return true
		}
	}
	return false
}

// Restricted reports whether any entry was given.
func (a *Access) Restricted() bool { return len(a.allow)+len(a.deny) > 0 }

// Guard wraps ln so that Accept closes refused peers before a byte is
// read from them, calling denied (if set) for each.
func Guard(ln Listener, a *Access, denied func(peer net.Addr)) Listener {
	return &guardListener{Listener: ln, access: a, denied: denied}
}

type guardListener struct {
	Listener
	access *Access
	denied func(net.Addr)
}

func (l *guardListener) Accept() (stream.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, perr := netip.ParseAddrPort(Addr(c.RemoteAddr()))
		if perr != nil || l.access.Permits(ap.Addr()) {
			return c, nil // Unix peers have no address to judge
		}
		if l.denied != nil {
			l.denied(c.RemoteAddr())
		}
		c.Close()
	}
}
