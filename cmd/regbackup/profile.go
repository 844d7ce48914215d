package main

import (
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

var exitHooks []func()

// exit runs the exit hooks (a CPU profile's flush) that os.Exit would skip.
func exit(code int) {
	for _, f := range exitHooks {
		f()
	}
	os.Exit(code)
}

// startCPUProfile writes a CPU profile to path (REGBACKUP_CPUPROFILE, for
// `go tool pprof`) until the process exits.
func startCPUProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return
	}
	exitHooks = append(exitHooks, func() { pprof.StopCPUProfile(); f.Close() })
}

// startHeapProfile writes a heap profile to path (REGBACKUP_MEMPROFILE, for
// `go tool pprof -sample_index=inuse_space`) each time the heap after a
// collection reaches a new high, checked every 200 ms: the file left holds
// what was live at the run's peak, which a profile taken at exit does not.
func startHeapProfile(path string) {
	runtime.MemProfileRate = 64 << 10
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	write := func() {
		metrics.Read(sample)
		live := sample[0].Value.Uint64()
		if live <= peak {
			return
		}
		peak = live
		f, err := os.Create(path)
		if err != nil {
			return
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			write()
		}
	}()
}
