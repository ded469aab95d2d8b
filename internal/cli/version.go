package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// printVersion is `sockit version`: the version, the commit it was built
// from, Go's version, the platform, and the optional paths this build
// and this process can use.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "sockit %s\n", Version)
	commit, when, modified := "unknown", "", false
	goVersion := runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if when != "" {
		commit += " (" + when
		if modified {
			commit += ", with changes not committed"
		}
		commit += ")"
	}
	fmt.Fprintf(w, "  commit    %s\n", commit)
	fmt.Fprintf(w, "  go        %s\n", goVersion)
	fmt.Fprintf(w, "  platform  %s/%s\n", runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "  paths     %s\n", strings.Join(paths(), "; "))
}

// paths says which optional paths apply here.
func paths() []string {
	out := []string{"TLS 1.2 and 1.3 (crypto/tls)"}
	if f, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0); err == nil {
		f.Close()
		out = append(out, "PTY yes")
	} else {
		out = append(out, "PTY no (/dev/ptmx cannot be opened)")
	}
	switch {
	case runtime.GOOS != "linux":
		out = append(out, "splice and the relay's epoll loop no (Linux only)")
	case runtime.GOMAXPROCS(0) < 2:
		out = append(out, "splice yes; the relay's epoll loop no (GOMAXPROCS 1)")
	default:
		out = append(out, "splice yes; the relay's epoll loop yes")
	}
	return out
}
