// Package memlimit sets the Go heap's soft limit the way every regbackup
// run wants it: low while the run holds little, raised with the live heap
// when it holds more, so that the collector never runs without pause.
package memlimit

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// SoftLimit is the Go heap size from which the collector runs as
// often as it must to stay there (runtime/debug.SetMemoryLimit), instead of
// letting the heap grow to twice what is live before collecting. A run over
// a registry of 100,000 tags holds a few hundred MB of metadata at its
// peak; without the limit its RSS was about twice that. GOMEMLIMIT, when
// set, replaces it (and the raising below).
const SoftLimit = 192 << 20

// Headroom is how far above what is live the limit is raised when a
// run holds more than SoftLimit: a fixed limit below the live heap
// makes the collector run without pause (half the CPU: a backup of a
// million tags took 353 s instead of 212), while the heap may grow by half
// before the next collection (GOGC=50), not double it.
const Headroom = 1.5

// MaxHeadroom is the most the limit is raised above what is live: the
// heap of a big run is mostly pointer-free tables (digests, handles,
// sizes) that a collection marks without reading, so collecting every
// 96 MiB of garbage costs little, where growing by half would put a
// million-tag backup (some 350 MiB live) over 512 MiB.
const MaxHeadroom = 96 << 20

// Set sets the limit to SoftLimit and keeps raising it with the live
// heap (see For) until stop is called; with GOMEMLIMIT set it does
// nothing (stop too).
func Set() (stop func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	old := debug.SetMemoryLimit(SoftLimit)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		raise(done)
	}()
	return func() {
		close(done)
		<-stopped
		debug.SetMemoryLimit(old)
	}
}

// raise keeps the limit at For the live heap, checked every 100 ms,
// until done is closed.
func raise(done <-chan struct{}) {
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	limit := int64(SoftLimit)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		metrics.Read(live)
		if l := For(live[0].Value.Uint64()); l != limit {
			limit = l
			debug.SetMemoryLimit(limit)
		}
	}
}

// For is the soft limit for a live heap of live bytes: SoftLimit while
// live is under it (collecting often near it costs little there and keeps
// a 100,000-tag run under 256 MiB), Headroom times live past it, at most
// MaxHeadroom above it.
func For(live uint64) int64 {
	if live < SoftLimit {
		return SoftLimit
	}
	return min(int64(float64(live)*Headroom), int64(live)+MaxHeadroom)
}
