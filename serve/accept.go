package serve

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/stream"
)

// Accept waits for the next connection on ln. When the process is out of
// descriptors, the connection waits in the kernel's accept queue until a
// session ends, so accept backs off (5 ms doubling to 1 s) rather than
// spin or give up, and calls full once per shortage with the error.
func Accept(ctx context.Context, ln endpoint.Listener, full func(error)) (stream.Conn, error) {
	var wait time.Duration
	for {
		c, err := ln.Accept()
		if err == nil || !(errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) {
			return c, err
		}
		if wait == 0 {
			full(err)
		}
		wait = min(max(2*wait, 5*time.Millisecond), time.Second)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
