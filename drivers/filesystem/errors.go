package filesystem

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/regbackup/regbackup/drivers"
)

// wrapErr names the driver, the operation and the full path. An
// *fs.PathError about that same path is unwrapped so the path is not
// repeated; errors.Is still sees the underlying errno.
func wrapErr(op, full string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == full {
		err = pe.Err
	}
	return fmt.Errorf("%s: %s %s: %w", driverName, op, full, err)
}

// notFound wraps drivers.ErrNotFound; why says what was found instead, if
// anything.
func notFound(op, full, why string) error {
	if why != "" {
		return fmt.Errorf("%s: %s %s: %w (%s)", driverName, op, full, drivers.ErrNotFound, why)
	}
	return fmt.Errorf("%s: %s %s: %w", driverName, op, full, drivers.ErrNotFound)
}

// invalidPath reports a path rejected before touching the disk.
func invalidPath(op, rel string, err error) error {
	return fmt.Errorf("%s: %s %q: %w", driverName, op, rel, err)
}
