package main

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/azure"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/drivers/gcs"
	"github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/drivers/s3"
	"github.com/regbackup/regbackup/drivers/swift"
)

// TestThrottledKeepsInterfaces: with REGBACKUP_TEST_IO_DELAY set, every
// backend's wrapper has exactly the optional interfaces the backend has
// (a restore into S3 must not see a Syncer, a copy must see the target's
// Copier and ConcurrencyHinter), and unwraps to the backend, so that tests
// take the code paths production takes.
func TestThrottledKeepsInterfaces(t *testing.T) {
	t.Setenv(testIODelayEnv, "1ms")
	for _, d := range []drivers.Driver{(*filesystem.Driver)(nil), (*inmemory.Driver)(nil), (*s3.Driver)(nil),
		(*gcs.Driver)(nil), (*azure.Driver)(nil), (*swift.Driver)(nil)} {
		w, err := throttled(d)
		if err != nil {
			t.Errorf("%T: %v", d, err)
			continue
		}
		if got, want := features(w), features(d); got != want {
			t.Errorf("%T throttled has optional interfaces %05b, the driver %05b", d, got, want)
		}
		if drivers.Underlying(w) != d {
			t.Errorf("%T throttled unwraps to %T", d, drivers.Underlying(w))
		}
	}
}
