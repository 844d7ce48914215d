package azure

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemLimitBound: 32 goroutines take buffers of random sizes from a
// budget of 10; the bytes held never exceed it and everyone finishes.
func TestMemLimitBound(t *testing.T) {
	m := newMemLimit(10, 4)
	var held, most atomic.Int64
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for j := range 50 {
				n := 1 + (i+j)%4
				b, err := m.buffer(t.Context(), n)
				if err != nil {
					t.Error(err)
					return
				}
				h := held.Add(int64(n))
				for {
					cur := most.Load()
					if h <= cur || most.CompareAndSwap(cur, h) {
						break
					}
				}
				time.Sleep(10 * time.Microsecond)
				held.Add(-int64(n))
				m.put(b)
			}
		})
	}
	wg.Wait()
	if most.Load() > 10 || m.peak > 10 {
		t.Fatalf("held up to %d bytes (peak %d), budget 10", most.Load(), m.peak)
	}
	if m.free != 10 {
		t.Fatalf("after all buffers came back, %d of 10 bytes are free", m.free)
	}
}

// TestMemLimitCancel: a waiter whose ctx ends gives up without taking
// memory, and does not block those behind it.
func TestMemLimitCancel(t *testing.T) {
	m := newMemLimit(4, 4)
	b, _ := m.buffer(t.Context(), 3)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { _, err := m.buffer(ctx, 4); done <- err }() // waits: only 1 free
	time.Sleep(20 * time.Millisecond)
	small := make(chan struct{})
	go func() { m.buffer(t.Context(), 1); close(small) }() // queued behind the big one
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter got %v", err)
	}
	select {
	case <-small:
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter behind a cancelled one was not served")
	}
	m.put(b)
	if m.free != 3 {
		t.Fatalf("free = %d, want 3 (1 still held)", m.free)
	}
}
