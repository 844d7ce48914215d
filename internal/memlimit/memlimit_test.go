package memlimit

import "testing"

// TestFor: the soft limit stays at 192 MiB while the live heap is
// under it, and rises with it past that, so that a run holding more than
// the limit is not collected without pause, by half of it up to 192 MiB
// live, then by MaxHeadroom.
func TestFor(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int64
	}{{0, 192 << 20}, {100 << 20, 192 << 20}, {128 << 20, 192 << 20}, {191 << 20, 192 << 20}, {200 << 20, 296 << 20}, {192 << 20, 288 << 20}, {350 << 20, 446 << 20}, {1 << 30, 1120 << 20}} {
		if got := For(c.live); got != c.want {
			t.Errorf("For(%d MiB) = %d MiB, want %d MiB", c.live>>20, got>>20, c.want>>20)
		}
	}
}
