package endpoint

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// readOnly refuses writes to a descriptor open for reading only, as the
// kernel would.
type readOnly struct{}

func (readOnly) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "fd", Err: syscall.EBADF}
}

// dialUnixClient is socat's UNIX-CLIENT: a stream connection, or datagrams
// when the socket at the path is a datagram socket.
func dialUnixClient(ctx context.Context, s address.Spec) (stream.Conn, error) {
	c, err := dialUnix(ctx, s)
	if errors.Is(err, syscall.EPROTOTYPE) {
		return dialUnixgram(s)
	}
	return c, err
}
