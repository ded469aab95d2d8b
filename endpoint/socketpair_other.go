//go:build unix && !linux

package endpoint

import "syscall"

// socketpair makes a connected pair of Unix stream sockets, close-on-exec
// (set under ForkLock, as the standard library does where socketpair(2)
// has no SOCK_CLOEXEC).
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}
