package filesystem_test

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/filesystem"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(t *testing.T) drivers.Driver { return newDriver(t, t.TempDir()) })
}

// newDriver opens root with default options or fails the test.
func newDriver(t *testing.T, root string) *filesystem.Driver {
	t.Helper()
	d, err := filesystem.New(root, filesystem.Options{Create: true})
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	return d
}
