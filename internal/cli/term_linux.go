package cli

import "golang.org/x/sys/unix"

// The termios ioctls: get, set after flushing input, set.
const (
	ioctlGetTermios      = unix.TCGETS
	ioctlSetTermiosFlush = unix.TCSETSF
	ioctlSetTermios      = unix.TCSETS
)
