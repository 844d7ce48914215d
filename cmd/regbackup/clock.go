package main

import (
	"os"
	"time"
)

// now is the time a backup records and names its archive by. The
// environment variable REGBACKUP_NOW (RFC 3339, e.g.
// 2026-11-23T02:00:00+01:00) replaces the clock: it exists for tests that
// play a week of nightly runs in a minute, and is not meant for production.
func now() (time.Time, error) {
	s := os.Getenv("REGBACKUP_NOW")
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("REGBACKUP_NOW=%q: want RFC 3339 time, e.g. 2026-11-23T02:00:00Z (test-only)", s)
	}
	return t, nil
}
