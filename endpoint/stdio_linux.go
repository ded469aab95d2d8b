package endpoint

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeSize is the capacity asked for a stdin pipe (the kernel's default
// maximum for unprivileged processes).
const pipeSize = 1 << 20

// pollable returns f as a file Go's poller can wait on when it is a pipe:
// a shell hands stdin over as a blocking pipe, and a blocking read cannot
// be interrupted when the session ends. Other files come back as they are.
func pollable(f *os.File) *os.File {
	fd := int(f.Fd())
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return f
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return f
	}
	// A larger pipe lets the writer run ahead and lets one splice move
	// more; best effort, since the size is capped by fs.pipe-max-size.
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
	return os.NewFile(uintptr(fd), f.Name())
}
