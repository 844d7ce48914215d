// Package membudget bounds the upload memory of one object-storage driver:
// every Put of the driver takes its buffers from one Budget, so memory stays
// within a limit however many Puts run at once.
package membudget

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// Budget hands out byte buffers while the bytes held stay within a limit.
// Waiters are served first come, first served, so a Put asking for a whole
// part is not starved by small ones. Buffers of exactly the chunk size (a
// multipart part, a block) are recycled.
//
// A caller must never wait for a second buffer while it holds one it has
// not handed to an upload yet, and uploads must Put their buffer back
// whatever happens; then waiting always ends.
type Budget struct {
	chunk int
	sem   *semaphore.Weighted
	spare sync.Pool // *[]byte of cap chunk

	inUse, peak atomic.Int64 // bytes held now, and at most since ResetPeak
}

// New returns a Budget of limit bytes whose chunk-sized buffers are reused.
func New(limit, chunk int64) *Budget {
	return &Budget{chunk: int(chunk), sem: semaphore.NewWeighted(limit)}
}

// Get waits until n bytes are free, or ctx ends, and returns a buffer of
// length and capacity n (not zeroed). n must not exceed the limit.
func (b *Budget) Get(ctx context.Context, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	if err := b.sem.Acquire(ctx, int64(n)); err != nil {
		return nil, err
	}
	b.held(int64(n))
	if n == b.chunk {
		if p, ok := b.spare.Get().(*[]byte); ok {
			return (*p)[:n], nil
		}
	}
	return make([]byte, n), nil
}

// Put returns a buffer from Get.
func (b *Budget) Put(buf []byte) {
	n := cap(buf)
	if n == 0 {
		return
	}
	if n == b.chunk {
		buf = buf[:n]
		b.spare.Put(&buf)
	}
	b.held(-int64(n))
	b.sem.Release(int64(n))
}

// InUse is the number of bytes held now.
func (b *Budget) InUse() int64 { return b.inUse.Load() }

// Peak is the most bytes held at once since New or ResetPeak.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// ResetPeak starts a new peak measurement, for tests.
func (b *Budget) ResetPeak() { b.peak.Store(b.inUse.Load()) }

func (b *Budget) held(n int64) {
	now := b.inUse.Add(n)
	for {
		p := b.peak.Load()
		if now <= p || b.peak.CompareAndSwap(p, now) {
			return
		}
	}
}
