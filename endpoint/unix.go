package endpoint

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// unixPath returns the socket path, with Linux's "@" prefix for the
// abstract namespace.
func unixPath(s address.Spec) string {
	p := s.Arg(0)
	if _, ok := s.Opt("abstract"); ok && (p == "" || p[0] != '@') {
		return "@" + p
	}
	return p
}

func dialUnix(ctx context.Context, s address.Spec) (stream.Conn, error) {
	d := net.Dialer{Control: sockopts(s)}
	if b, ok := s.Opt("bind"); ok {
		d.LocalAddr = &net.UnixAddr{Name: b, Net: "unix"}
	}
	c, err := d.DialContext(ctx, "unix", unixPath(s))
	if err != nil {
		return nil, err
	}
	return c.(*net.UnixConn), nil
}

// unixListener adapts *net.UnixListener to Listener.
type unixListener struct{ *net.UnixListener }

func (l unixListener) Accept() (stream.Conn, error) { return l.AcceptUnix() }

func listenUnix(ctx context.Context, s address.Spec) (Listener, error) {
	path := unixPath(s)
	if err := unlinkEarly(s, path); err != nil {
		return nil, err
	}
	lc := net.ListenConfig{Control: sockopts(s)}
	ln, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	ul := ln.(*net.UnixListener)
	if v, ok := s.Opt("unlink-close"); ok && v == "0" {
		ul.SetUnlinkOnClose(false)
	}
	if err := setMode(s, path); err != nil {
		ul.Close()
		return nil, err
	}
	if err := setBacklog(ul, s); err != nil {
		ul.Close()
		return nil, err
	}
	return unixListener{ul}, nil
}

// unlinkEarly removes a stale socket file before binding, when asked; a
// path that is not a socket is left alone and reported.
func unlinkEarly(s address.Spec, path string) error {
	if !on(s, "unlink-early") || path == "" || path[0] == '@' {
		return nil
	}
	st, err := os.Lstat(path)
	if err != nil {
		return nil // nothing to remove
	}
	if st.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("unlink-early: %s exists and is not a socket", path)
	}
	return os.Remove(path)
}

// setMode applies the mode (socat's perm), user and group options to a
// socket file just bound.
func setMode(s address.Spec, path string) error {
	if path == "" || path[0] == '@' {
		return nil
	}
	if uid, gid, err := owner(s); err != nil {
		return err
	} else if uid >= 0 || gid >= 0 {
		if err := os.Chown(path, uid, gid); err != nil {
			return err
		}
	}
	for _, name := range []string{"mode", "perm-early", "perm-late"} {
		if v, ok := s.Opt(name); ok {
			m, _ := strconv.ParseUint(v, 8, 32) // validated by address.Parse
			if err := os.Chmod(path, fs.FileMode(m)); err != nil {
				return err
			}
		}
	}
	return nil
}
