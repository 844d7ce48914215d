package main

import (
	"os"
	"runtime/debug"
)

// softMemoryLimit is the Go heap size from which the collector runs as
// often as it must to stay there (runtime/debug.SetMemoryLimit), instead of
// letting the heap grow to twice what is live before collecting. A run over
// a registry of 100,000 tags holds a few hundred MB of metadata at its
// peak; without the limit its RSS was about twice that. It is soft: a run
// that needs more gets more (the collector then takes at most about half
// the CPU). GOMEMLIMIT, when set, replaces it.
const softMemoryLimit = 192 << 20

func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}
