package inmemory

import (
	"fmt"

	"github.com/regbackup/regbackup/drivers"
)

// checkPath and checkPrefix are the drivers package's rules, the same the
// filesystem driver applies, so tests on this driver catch what would fail
// there.
var (
	checkPath   = drivers.CheckPath
	checkPrefix = drivers.CheckPrefix
)

func invalidPath(op, p string, err error) error {
	return fmt.Errorf("%s: %s %q: %w", driverName, op, p, err)
}
