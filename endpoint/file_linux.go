package endpoint

import "golang.org/x/sys/unix"

// Linux's open(2) flags beyond the portable ones.
func init() {
	for name, flag := range map[string]int{"o-rsync": unix.O_RSYNC, "o-dsync": unix.O_DSYNC, "o-direct": unix.O_DIRECT,
		"o-largefile": unix.O_LARGEFILE, "o-noatime": unix.O_NOATIME} {
		openFlags[name] = flag
	}
}
