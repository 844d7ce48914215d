package membudget

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBound: 32 goroutines take buffers of random sizes from a
// budget of 10; the bytes held never exceed it and everyone finishes.
func TestBound(t *testing.T) {
	m := New(10, 4)
	var held, most atomic.Int64
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			for j := range 50 {
				n := 1 + (i+j)%4
				b, err := m.Get(t.Context(), n)
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
				m.Put(b)
			}
		})
	}
	wg.Wait()
	if most.Load() > 10 || m.Peak() > 10 {
		t.Fatalf("held up to %d bytes (peak %d), budget 10", most.Load(), m.Peak())
	}
	if m.InUse() != 0 {
		t.Fatalf("after all buffers came back, %d bytes are still held", m.InUse())
	}
}

// TestCancel: a waiter whose ctx ends gives up without taking
// memory, and does not block those behind it.
func TestCancel(t *testing.T) {
	m := New(4, 4)
	b, _ := m.Get(t.Context(), 3)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { _, err := m.Get(ctx, 4); done <- err }() // waits: only 1 free
	time.Sleep(20 * time.Millisecond)
	small := make(chan struct{})
	go func() { m.Get(t.Context(), 1); close(small) }() // queued behind the big one
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
	m.Put(b)
	if m.InUse() != 1 {
		t.Fatalf("held = %d, want 1 (the small waiter's buffer)", m.InUse())
	}
}
