package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// lockPoll is how often -W looks whether the lock file is gone.
const lockPoll = 100 * time.Millisecond

// TakeLock is socat's -L and lockfile= (fail when the lock file exists)
// and -W and waitlock= (wait until it is gone): the file is created
// exclusively, holds the PID, and is removed by the returned function.
func TakeLock(ctx context.Context, path string, wait bool) (func(), error) {
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintln(f, strconv.Itoa(os.Getpid()))
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !wait {
			return nil, fmt.Errorf("could not obtain lock %q", path)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(lockPoll):
		}
	}
}
