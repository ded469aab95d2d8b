//go:build unix

package endpoint

import "golang.org/x/sys/unix"

// The open(2) flags of every Unix.
func init() {
	for name, flag := range map[string]int{"o-noctty": unix.O_NOCTTY, "o-sync": unix.O_SYNC, "o-nofollow": unix.O_NOFOLLOW,
		"o-directory": unix.O_DIRECTORY, "o-nonblock": unix.O_NONBLOCK, "async": unix.O_ASYNC} {
		openFlags[name] = flag
	}
}

// setUmask sets the process's umask and returns the old one.
func setUmask(m int) int { return unix.Umask(m) }

// mkfifo makes a named pipe.
func mkfifo(path string, mode uint32) error { return unix.Mkfifo(path, mode) }

// relisten calls listen(2) again on a listening socket, to set its backlog.
func relisten(fd uintptr, backlog int) error { return unix.Listen(int(fd), backlog) }
