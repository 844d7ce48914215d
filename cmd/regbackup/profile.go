package main

import (
	"os"
	"runtime/pprof"
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
