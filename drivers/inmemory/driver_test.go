package inmemory_test

import (
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/drivertest"
	"github.com/regbackup/regbackup/drivers/inmemory"
)

func TestConformance(t *testing.T) {
	drivertest.Run(t, func(*testing.T) drivers.Driver { return inmemory.New() })
}
