package drivertest

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// Factory returns a fresh, empty driver for one subtest.
type Factory func(t *testing.T) drivers.Driver

// Run runs the whole conformance suite against the drivers newDriver makes,
// each subtest on a fresh one.
func Run(t *testing.T, newDriver func(t *testing.T) drivers.Driver) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"RoundTrip", testRoundTrip},
		{"UnknownSize", testUnknownSize},
		{"PutReplaces", testPutReplaces},
		{"NotFound", testNotFound},
		{"WalkNested", testWalkNested},
		{"WalkMissingPrefix", testWalkMissingPrefix},
		{"WalkStopsOnError", testWalkStopsOnError},
		{"WalkCancelled", testWalkCancelled},
		{"ShortReader", testShortReader},
		{"LongReader", testLongReader},
		{"FailingReader", testFailingReader},
		{"CancelDuringPut", testCancelDuringPut},
		{"CancelledBeforePut", testCancelledBeforePut},
		{"Concurrent", testConcurrent},
		{"ConcurrentSamePath", testConcurrentSamePath},
		{"DeleteThenWalk", testDeleteThenWalk},
		{"Teardown", testTeardown},
		{"BadPaths", testBadPaths},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDriver) })
	}
}

// fresh calls the factory and checks the driver starts empty.
func fresh(t *testing.T, newDriver Factory) drivers.Driver {
	t.Helper()
	d := newDriver(t)
	if d == nil {
		t.Fatal("factory returned a nil driver")
	}
	if got := walkPaths(t, d, ""); len(got) != 0 {
		t.Fatalf("%s: factory returned a driver that is not empty: Walk(\"\") = %q", d, got)
	}
	return d
}
