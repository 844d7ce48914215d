package main

import (
	"os"
	"runtime/pprof"
)

var exitHooks []func()

// exit runs deferred work (a CPU profile) that os.Exit would skip.
func exit(code int) {
	for _, f := range exitHooks {
		f()
	}
	os.Exit(code)
}

// startCPUProfile writes a CPU profile to path (REGBACKUP_CPUPROFILE, for
// `go tool pprof`) until the process exits.
func startCPUProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	stop := func() { pprof.StopCPUProfile(); f.Close() }
	exitHooks = append(exitHooks, stop)
	return func() {}
}
