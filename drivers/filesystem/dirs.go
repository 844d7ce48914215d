package filesystem

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// mkdirs makes the folder rel (a checked slash path, "." for the root) and
// its missing parents, each with mode 0755 and the configured owner. It
// returns the folders it created, top first.
func (d *Driver) mkdirs(rel string) ([]string, error) {
	if rel == "." {
		return nil, nil
	}
	if fi, err := os.Stat(d.full(rel)); err == nil && fi.IsDir() {
		return nil, nil
	}
	var created []string
	cur := d.root
	for elem := range strings.SplitSeq(rel, "/") {
		cur = filepath.Join(cur, elem)
		err := os.Mkdir(cur, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue // a file here makes the next step fail with ENOTDIR
		}
		if err != nil {
			return created, err
		}
		created = append(created, cur)
		if err := os.Chmod(cur, 0o755); err != nil {
			return created, err
		}
		if d.owner != nil {
			if err := os.Lchown(cur, d.owner.uid, d.owner.gid); err != nil {
				return created, err
			}
		}
	}
	return created, nil
}

// removeDirs removes folders a failed Put created, deepest first, stopping at
// the first that is not empty (another Put is using it).
func (d *Driver) removeDirs(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		if rmdir(created[i]) != nil {
			return
		}
	}
}

// pruneDirs removes the folder rel (a checked slash path) and its parents
// while they are empty, never the root. Failures just stop it.
func (d *Driver) pruneDirs(rel string) {
	for ; rel != "." && rel != ""; rel = path.Dir(rel) {
		if rmdir(d.full(rel)) != nil {
			return
		}
	}
}
