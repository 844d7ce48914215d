package archive

import (
	"fmt"
	"math"
	"runtime"
	"testing"
)

func planDigest(i int) string { return fmt.Sprintf("sha256:%064x", i) }

// A plan gives back every blob's size (4 GiB and more too), parent and
// flags, across blocks, sorted when added out of order, the last of a
// digest listed twice counting.
func TestBlobPlan(t *testing.T) {
	for _, sorted := range []bool{true, false} {
		p := newBlobPlan()
		n := planBlockLen + 100
		sizeOf := func(i int) int64 {
			switch i % 3 {
			case 0:
				return math.MaxUint32 + int64(i) // over 4 GiB
			case 1:
				return math.MaxUint32 - 1 // the largest held in 32 bits
			}
			return int64(i)
		}
		parentOf := func(i int) string {
			if i == planBlockLen+7 || i == 3 {
				return "parent.tar.zst"
			}
			return ""
		}
		order := make([]int, 0, n+1)
		for i := range n {
			order = append(order, i)
		}
		if !sorted {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
			// Listed twice: the first record is wrong, the last counts.
			if err := p.add(Blob{Digest: planDigest(5), Size: 1}); err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range order {
			if err := p.add(Blob{Digest: planDigest(i), Size: sizeOf(i), Archive: parentOf(i)}); err != nil {
				t.Fatal(err)
			}
		}
		p.finish()
		if p.n != n {
			t.Fatalf("sorted %v: %d entries, want %d", sorted, p.n, n)
		}
		for i := range n {
			j := p.find(planDigest(i))
			if j != i {
				t.Fatalf("sorted %v: find(%d) = %d", sorted, i, j)
			}
			if p.size(j) != sizeOf(i) || p.parentName(j) != parentOf(i) || p.digest(j) != planDigest(i) {
				t.Errorf("sorted %v: entry %d: size %d, parent %q, digest %s; want %d, %q", sorted, i,
					p.size(j), p.parentName(j), p.digest(j), sizeOf(i), parentOf(i))
			}
		}
		if p.find(planDigest(n)) != -1 || p.find("sha256:nope") != -1 {
			t.Error("find finds what the plan does not hold")
		}
		p.mark(planBlockLen+1, planSeen)
		p.mark(planBlockLen+1, planHeld)
		if p.flags(planBlockLen+1) != planSeen|planHeld || p.flags(planBlockLen) != 0 {
			t.Errorf("flags %b and %b", p.flags(planBlockLen+1), p.flags(planBlockLen))
		}
	}
}

// A plan holds a blob of this archive in at most 40 bytes (37 and its
// share of the block list): three million blobs, a million tags' worth,
// in 120 MB.
func TestBlobPlanMemoryPerBlob(t *testing.T) {
	const n = 4 * planBlockLen
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	p := newBlobPlan()
	for i := range n {
		if err := p.add(Blob{Digest: planDigest(i), Size: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	p.finish()
	per := float64(heap()-before) / n
	runtime.KeepAlive(p)
	t.Logf("%.1f bytes a blob", per)
	if per > 40 {
		t.Errorf("the plan takes %.1f bytes a blob, want at most 40", per)
	}
}
