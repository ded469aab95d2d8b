//go:build !linux

package cli

import (
	"fmt"
	"io"
	"runtime"

	"github.com/sockit/sockit/stream"
)

// filan is socat's -D; its descriptor table is read the Linux way, so
// here it says so instead.
func filan(w io.Writer, _ ...stream.Conn) {
	fmt.Fprintf(w, "-D: the descriptor table is Linux only (not on %s)\n", runtime.GOOS)
}
