package sample

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// workers is how many blobs or repositories Generate writes at once.
func workers() int { return min(runtime.GOMAXPROCS(0), 8) }

// forEach calls fn for 0..n-1 on up to workers() goroutines and returns the
// first error; after an error or cancellation no new calls start.
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers(), n) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
