package main

import (
	"github.com/urfave/cli/v2"
)

// concurrencyFlag is --concurrency for backup and restore. Unset, the core
// asks the backend (parallel.DefaultConcurrency for a local disk).
func concurrencyFlag(what string) *cli.IntFlag {
	return &cli.IntFlag{Name: "concurrency", Usage: "`N` " + what + " at once (more helps object stores, whose every request waits on the network)",
		DefaultText: "16 for object stores, 4 for the filesystem"}
}

// concurrencyOption is the --concurrency the user gave, 0 when none (the
// backend's default), or a usage error when below 1.
func concurrencyOption(c *cli.Context) (int, error) {
	if !c.IsSet("concurrency") {
		return 0, nil
	}
	if n := c.Int("concurrency"); n >= 1 {
		return n, nil
	}
	return 0, usagef("--concurrency must be at least 1, got %d", c.Int("concurrency"))
}
