package endpoint

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// parseRange reads socat's range option: address/bits, address:mask (an
// IPv4 netmask), or an address alone (that one host). The address may be
// a name, resolved once; IPv6 addresses may be in brackets.
func parseRange(ctx context.Context, v string) (netip.Prefix, error) {
	host, bits := v, -1
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		n, err := strconv.Atoi(v[i+1:])
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("range %q: bad prefix length", v)
		}
		host, bits = v[:i], n
	} else if h, mask, ok := strings.Cut(v, ":"); ok && !strings.Contains(mask, ":") && !strings.HasPrefix(v, "[") {
		m := net.ParseIP(mask).To4()
		if m == nil {
			return netip.Prefix{}, fmt.Errorf("range %q: bad netmask", v)
		}
		ones, size := net.IPMask(m).Size()
		if size == 0 {
			return netip.Prefix{}, fmt.Errorf("range %q: netmask is not contiguous", v)
		}
		host, bits = h, ones
	}
	host = strings.Trim(host, "[]")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return netip.Prefix{}, fmt.Errorf("range %q: %v", v, lerr)
		}
		addr = ips[0]
	}
	addr = addr.Unmap()
	if bits < 0 {
		bits = addr.BitLen()
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("range %q: %w", v, err)
	}
	return p, nil
}
