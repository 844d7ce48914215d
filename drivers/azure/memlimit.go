package azure

import (
	"container/list"
	"context"
	"sync"
)

// memLimit hands out buffers while the bytes held stay within a budget
// shared by every Put of a Driver. Waiters are served first come, first
// served, so a Put asking for a whole block is not starved by small ones.
//
// A Put never waits for memory while it holds a buffer it has not handed
// to an upload yet, and uploads release their buffer whatever happens, so
// waiting always ends.
type memLimit struct {
	mu      sync.Mutex
	budget  int64
	free    int64
	peak    int64     // most bytes held at once, for tests
	waiters list.List // of *memWaiter
	pool    sync.Pool // spare []byte of cap blockSize, set by the Driver
	block   int
}

type memWaiter struct {
	n     int64
	ready chan struct{}
}

func newMemLimit(budget, block int64) *memLimit {
	return &memLimit{budget: budget, free: budget, block: int(block)}
}

// acquire waits until n bytes are free, or ctx ends.
func (m *memLimit) acquire(ctx context.Context, n int64) error {
	m.mu.Lock()
	if m.waiters.Len() == 0 && m.free >= n {
		m.take(n)
		m.mu.Unlock()
		return nil
	}
	w := &memWaiter{n: n, ready: make(chan struct{})}
	elem := m.waiters.PushBack(w)
	m.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		m.mu.Lock()
		select {
		case <-w.ready:
			// Granted meanwhile: give it back.
			m.free += n
		default:
			m.waiters.Remove(elem)
		}
		m.wakeLocked()
		m.mu.Unlock()
		return ctx.Err()
	}
}

// release returns n bytes and wakes the waiters they satisfy, in order.
func (m *memLimit) release(n int64) {
	m.mu.Lock()
	m.free += n
	m.wakeLocked()
	m.mu.Unlock()
}

func (m *memLimit) wakeLocked() {
	for e := m.waiters.Front(); e != nil; e = m.waiters.Front() {
		w := e.Value.(*memWaiter)
		if m.free < w.n {
			return
		}
		m.take(w.n)
		m.waiters.Remove(e)
		close(w.ready)
	}
}

func (m *memLimit) take(n int64) {
	m.free -= n
	m.peak = max(m.peak, m.budget-m.free)
}

// buffer waits for n bytes of budget and returns a slice of length n.
// Slices of a whole block are recycled.
func (m *memLimit) buffer(ctx context.Context, n int) ([]byte, error) {
	if err := m.acquire(ctx, int64(n)); err != nil {
		return nil, err
	}
	if n == m.block {
		if b, ok := m.pool.Get().(*[]byte); ok {
			return (*b)[:n], nil
		}
	}
	return make([]byte, n), nil
}

// put returns a buffer from buffer.
func (m *memLimit) put(b []byte) {
	if cap(b) == m.block && m.block > 0 {
		b = b[:cap(b)]
		m.pool.Put(&b)
	}
	m.release(int64(cap(b)))
}
