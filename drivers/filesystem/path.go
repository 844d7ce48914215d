package filesystem

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

// checkPath applies drivers.CheckPath and, on systems whose separator is
// not "/", also rejects that separator and volume names.
func checkPath(p string) error {
	if err := drivers.CheckPath(p); err != nil {
		return err
	}
	if filepath.Separator != '/' && strings.ContainsRune(p, filepath.Separator) ||
		filepath.VolumeName(filepath.FromSlash(p)) != "" {
		return fmt.Errorf("%w: contains an OS path separator or volume name", drivers.ErrInvalidPath)
	}
	return nil
}

// checkPrefix accepts what Walk takes (see drivers.CheckPrefix).
func checkPrefix(prefix string) (string, error) {
	p, err := drivers.CheckPrefix(prefix)
	if err != nil || p == "" {
		return p, err
	}
	return p, checkPath(p)
}
