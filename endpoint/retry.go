package endpoint

import (
	"context"
	"strconv"
	"time"

	"github.com/sockit/sockit/address"
)

// maxInterval caps the wait between connect retries.
const maxInterval = 30 * time.Second

// withRetry calls dial until it succeeds, as often as the retry and
// forever options allow, waiting interval (default 1 s, socat's) before
// the first retry and twice as long before each next one, up to 30 s.
func withRetry[T any](ctx context.Context, s address.Spec, dial func(context.Context) (T, error)) (T, error) {
	tries := 0
	if v, ok := s.Opt("retry"); ok {
		tries, _ = strconv.Atoi(v) // validated by address.Parse
	}
	forever := on(s, "forever")
	wait := time.Second
	if v, ok := s.Opt("interval"); ok {
		wait, _ = address.ParseSeconds(v)
	}
	told, _ := ctx.Value(retryKey{}).(RetryFunc)
	for attempt := 0; ; attempt++ {
		c, err := dial(ctx)
		if err == nil || (!forever && attempt >= tries) || ctx.Err() != nil {
			return c, err
		}
		if told != nil {
			told(s, attempt+2, wait, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return c, err
		case <-t.C:
		}
		wait = min(2*wait, maxInterval)
	}
}

// RetryFunc hears of each retry of a dial or listen (the retry and
// forever options): the address, the number of the attempt to come (2
// for the first retry), the wait before it, and why the last failed.
type RetryFunc func(s address.Spec, attempt int, wait time.Duration, err error)

type retryKey struct{}

// WithRetryFunc returns a context under which Dial and Listen tell f of
// every retry.
func WithRetryFunc(ctx context.Context, f RetryFunc) context.Context {
	return context.WithValue(ctx, retryKey{}, f)
}
