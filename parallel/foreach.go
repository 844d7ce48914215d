// Package parallel runs the core's many small requests (link reads, Stats,
// blob Puts) a bounded number at a time: ForEach, and Concurrency, how many
// a backend wants in flight when the user did not say.
//
// It is not for ordered output (a backup's blobs go into the archive in
// digest order through backup's own fetcher) and knows nothing of
// registries.
package parallel

import (
	"context"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// DefaultConcurrency is how many blobs a backup reads, or a restore
// writes, at once on a backend that gives no hint (a local disk). Object
// stores say how many they want through drivers.ConcurrencyHinter.
const DefaultConcurrency = 4

// Concurrency is n when the caller set it, else d's preferred number of
// requests in flight.
func Concurrency(n int, d drivers.Driver) int {
	if n > 0 {
		return n
	}
	return drivers.DefaultConcurrency(d, DefaultConcurrency)
}

// ForEach runs fn on every item with at most n goroutines. It stops handing
// out items at the first error or when ctx is cancelled, and returns that
// error.
func ForEach[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan T)
	var wg sync.WaitGroup
	for range min(max(n, 1), max(len(items), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if err := fn(ctx, it); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return context.Cause(ctx)
}

// Indexes is 0, 1, ..., n-1: the items for a ForEach over the positions of
// a slice whose results go into a slice of the same length.
func Indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
