package endpoint

import (
	"io"
	"os"

	"github.com/sockit/sockit/address"
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

// StdioFor returns the conn for a STDIO, STDIN or STDOUT address over in
// and out. STDIN only reads (what is written to it is discarded); STDOUT
// only writes (reading it sees end of stream at once).
func StdioFor(k address.Kind, in io.Reader, out io.Writer) stream.Conn {
	switch k {
	case address.Stdin:
		return Stdio(in, io.Discard)
	case address.Stdout:
		return Stdio(eofReader{}, out)
	}
	return Stdio(in, out)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
