package endpoint

import (
	"os"

	"github.com/sockit/sockit/address"
)

// On reports whether the flag option name is set and not "0".
func On(s address.Spec, name string) bool { return on(s, name) }

// on reports whether the flag option name is set and not "0".
func on(s address.Spec, name string) bool {
	v, ok := s.Opt(name)
	return ok && flagOn(v)
}

// flagOn reads a flag's value: none, or anything but "0", is on.
func flagOn(v string) bool { return v != "0" }

// control runs fn with f's descriptor.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
