//go:build unix

package serve

import (
	"os"
	"syscall"
)

// terminate sends SIGTERM to a session's command and, when it leads a
// process group of its own (endpoint.Command starts it so), to all of
// the group: sh -c's children too.
func terminate(child *os.Process) {
	if pgid, err := syscall.Getpgid(child.Pid); err == nil && pgid == child.Pid {
		syscall.Kill(-child.Pid, syscall.SIGTERM) //nolint:errcheck // it may have exited
	}
	child.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
}
