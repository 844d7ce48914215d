package regtest

import (
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// PeakMemory runs fn and returns the most the Go heap held live (after a
// GC) while it ran, and the most memory the Go runtime had mapped and not
// returned to the system (heap, stacks, its own structures: about what
// the process's peak RSS would be), in bytes, sampled every 10 ms.
func PeakMemory(fn func()) (live, mapped uint64) {
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"}}
	sample := func() {
		metrics.Read(samples)
		live = max(live, samples[0].Value.Uint64())
		mapped = max(mapped, samples[1].Value.Uint64()-samples[2].Value.Uint64())
	}
	stop := every(10*time.Millisecond, sample)
	fn()
	stop()
	sample()
	return live, mapped
}

// every calls fn every interval, from a goroutine of its own, until stop
// is called; stop returns once fn no longer runs.
func every(interval time.Duration, fn func()) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// HeapProfileAtPeak writes a heap profile to path (for `go tool pprof
// -sample_index=inuse_space`) each time the live heap reaches a new high,
// checked every 100 ms, until stop is called: the file then holds what was
// live at the peak.
func HeapProfileAtPeak(path string) (stop func()) {
	runtime.MemProfileRate = 64 << 10
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	return every(100*time.Millisecond, func() {
		metrics.Read(sample)
		if live := sample[0].Value.Uint64(); live > peak {
			peak = live
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	})
}
