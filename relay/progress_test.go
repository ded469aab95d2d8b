package relay_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/relay"
)

// TestProgress: each direction reports its first byte once and its end
// with the bytes it moved, on the kernel path and on the slow one, and
// the bytes arrive whole around the first chunk Join moves itself.
func TestProgress(t *testing.T) {
	sizes := map[string][2]int{"both ways": {3 << 20, 100}, "one way empty": {70000, 0}, "one byte": {1, 1}}
	for _, slow := range []bool{false, true} {
		for name, size := range sizes {
			for kind, mk := range kinds {
				t.Run(fmt.Sprintf("%s/%s/slow=%v", name, kind, slow), func(t *testing.T) {
					a, b := mk(t), socketPair(t, "tcp")
					fromA, fromB := random(t, size[0]), random(t, size[1])
					var mu sync.Mutex
					var steps []string
					opt := relay.Options{Loop: true, Progress: func(toB bool, step relay.Step, n int64) {
						mu.Lock()
						defer mu.Unlock()
						if step == relay.FirstByte {
							steps = append(steps, fmt.Sprintf("first toB=%v", toB))
						} else {
							steps = append(steps, fmt.Sprintf("eof toB=%v n=%d", toB, n))
						}
					}}
					if slow {
						opt.Idle = time.Minute
					}
					joined := make(chan error, 1)
					go func() {
						_, err := relay.Join(context.Background(), a.inner, b.inner, opt)
						joined <- err
					}()
					var gotA, gotB []byte
					var wg sync.WaitGroup
					wg.Go(func() { gotA, _ = exchange(a.outer, fromA) })
					wg.Go(func() { gotB, _ = exchange(b.outer, fromB) })
					wg.Wait()
					if err := <-joined; err != nil {
						t.Fatal(err)
					}
					if sha256.Sum256(gotB) != sha256.Sum256(fromA) || sha256.Sum256(gotA) != sha256.Sum256(fromB) {
						t.Fatalf("bytes differ: b got %d of %d, a got %d of %d", len(gotB), len(fromA), len(gotA), len(fromB))
					}
					want := map[string]int{}
					for i, toB := range []bool{true, false} {
						if size[i] > 0 {
							want[fmt.Sprintf("first toB=%v", toB)] = 1
						}
						want[fmt.Sprintf("eof toB=%v n=%d", toB, size[i])] = 1
					}
					got := map[string]int{}
					for _, s := range steps {
						got[s]++
					}
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("progress %q, want %v", steps, want)
					}
				})
			}
		}
	}
}
