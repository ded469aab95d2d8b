package endpoint

import (
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
)

// sockopts returns a Control hook that applies the socket options s asks
// for (reuseaddr, reuseport, rcvbuf, sndbuf) before bind, or nil when it
// asks for none. caddy and Go's own listeners use the same hook.
func sockopts(s address.Spec) func(network, address string, rc syscall.RawConn) error {
	type opt struct{ level, name, value int }
	var set []opt
	if on(s, "reuseaddr") {
		set = append(set, opt{unix.SOL_SOCKET, unix.SO_REUSEADDR, 1})
	}
	if on(s, "reuseport") {
		set = append(set, opt{unix.SOL_SOCKET, unix.SO_REUSEPORT, 1})
	}
	if v, ok := s.Opt("rcvbuf"); ok {
		n, _ := address.ParseSize(v) // validated by address.Parse
		set = append(set, opt{unix.SOL_SOCKET, unix.SO_RCVBUF, n})
	}
	if v, ok := s.Opt("sndbuf"); ok {
		n, _ := address.ParseSize(v)
		set = append(set, opt{unix.SOL_SOCKET, unix.SO_SNDBUF, n})
	}
	if len(set) == 0 {
		return nil
	}
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			for _, o := range set {
				if serr = unix.SetsockoptInt(int(fd), o.level, o.name, o.value); serr != nil {
					return
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// on reports whether the flag option name is set and not "0".
func on(s address.Spec, name string) bool {
	v, ok := s.Opt(name)
	return ok && v != "0"
}
