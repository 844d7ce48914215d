package restore

import (
	"fmt"
	"runtime"
	"testing"
)

// A spilled keepSet answers as the map does, and holds no more than its
// sort's memory however many paths it was given: 600,000 paths (a map
// of them takes some 80 MB) in under 24 MB.
func TestKeepSetSpilled(t *testing.T) {
	const n = 1200000
	path := func(i int) string {
		return fmt.Sprintf("docker/registry/v2/repositories/team/r%06d/_manifests/tags/t%d/current/link", i/8, i)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	for _, k := range []*keepSet{newSpilledKeep(), newMemKeep()} {
		before := heap()
		for i := 0; i < n; i += 2 {
			if err := k.add(path(i)); err != nil {
				t.Fatal(err)
			}
		}
		held := heap() - before
		if k.mem == nil {
			t.Logf("spilled: %d paths held in %.1f MB", n/2, float64(held)/1e6)
			if held > 24<<20 {
				t.Errorf("a spilled keep set of %d paths holds %d MB", n/2, held>>20)
			}
		}
		if err := k.build(); err != nil {
			t.Fatal(err)
		}
		for i := range 2000 {
			ok, err := k.has(path(i))
			if err != nil {
				t.Fatal(err)
			}
			if ok != (i%2 == 0) {
				t.Fatalf("mem %v: has(%s) = %v", k.mem != nil, path(i), ok)
			}
		}
		runtime.KeepAlive(k)
		k.close()
	}
}
