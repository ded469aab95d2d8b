//go:build unix

package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal says whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}

// noEcho turns a terminal's echo off and drops what was typed before, as
// readpassphrase(3) does, and returns what turns it back on; nil when f is
// no terminal.
func noEcho(f *os.File) (restore func()) {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil
	}
	quiet := *t
	quiet.Lflag &^= unix.ECHO | unix.ECHONL
	quiet.Lflag |= unix.ICANON
	if unix.IoctlSetTermios(fd, ioctlSetTermiosFlush, &quiet) != nil {
		return nil
	}
	return func() {
		unix.IoctlSetTermios(fd, ioctlSetTermios, t) //nolint:errcheck // best effort on the way out
	}
}
