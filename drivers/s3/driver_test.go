package s3

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
)

// TestConformance runs the shared suite against gofakes3, each subtest in a
// fresh bucket, below a root directory as a registry would use it.
func TestConformance(t *testing.T) {
	f := startFakeS3(t)
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		d, err := New(t.Context(), f.config(f.bucket(t), "/reg/"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// TestConformanceNoRoot is the suite with the objects at the bucket's top.
func TestConformanceNoRoot(t *testing.T) {
	f := startFakeS3(t)
	drivertest.Run(t, func(t *testing.T) drivers.Driver {
		d, err := New(t.Context(), f.config(f.bucket(t), ""))
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}
