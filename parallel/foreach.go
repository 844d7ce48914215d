package backup

import (
	"context"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// DefaultConcurrency is how many blobs a backup reads, or a restore
// writes, at once on a backend that gives no hint (a local disk). Object
// stores say how many they want through drivers.ConcurrencyHinter.
const DefaultConcurrency = 4

// concurrencyFor is n when the caller set it, else d's preferred number of
// requests in flight.
func concurrencyFor(n int, d drivers.Driver) int {
	if n > 0 {
		return n
	}
	return drivers.DefaultConcurrency(d, DefaultConcurrency)
}

// forEach runs fn on every item with at most n goroutines. It stops handing
// out items at the first error or when ctx is cancelled, and returns that
// error.
func forEach[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
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
