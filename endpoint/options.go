package endpoint

import (
	"os"
	"strings"

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

// numberedSockopts are the options sockopts (sockopt_linux.go) sets with
// setsockopt by number, besides reuseaddr and address.SockoptFor's
// table; elsewhere they are refused. TestNumberedSockopts holds the list
// to that function's cases.
var numberedSockopts = map[string]bool{
	"reuseport": true, "rcvbuf": true, "sndbuf": true, "so-linger": true, "so-bindtodevice": true,
	"setsockopt-int": true, "setsockopt-bin": true, "setsockopt": true, "setsockopt-listen": true,
	"setsockopt-string": true, "ip-add-membership": true, "ipv6-join-group": true, "ip-options": true,
	"ip-multicast-if": true, "fiosetown": true, "siocspgrp": true,
}

// isFileOption names the options fileOptions (fileopts_linux.go) applies:
// seeks, truncation, locks, ioctls and chattr's fs-* flags; elsewhere
// they are refused. TestFileOptionNames holds it to that function.
func isFileOption(name string) bool {
	for _, p := range []string{"lseek", "ftruncate", "flock-", "f-setlk", "ioctl-", "fs-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}
