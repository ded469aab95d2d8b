package endpoint

import (
	"io"
	"os"

	"github.com/sockit/sockit/stream"
)

// Stdio returns a conn that reads in and writes out. When they are
// *os.File values the relay gets them as they are, for splice and sendfile.
func Stdio(in io.Reader, out io.Writer) stream.Conn {
	if f, ok := in.(*os.File); ok {
		in = pollable(f)
	}
	return &stream.Pair{R: in, W: out}
}
