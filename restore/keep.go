package restore

import (
	"crypto/sha256"
	"fmt"

	"github.com/regbackup/regbackup/internal/spill"
)

// keepSet is what a restore with --clean remembers of the paths the
// archive holds, so that clean removes only the others. From a regbackup
// archive it is spilled (newSpilledKeep): each path's sha256 collected in
// a spill.Sorter and then a spill.KeySet on disk, never in memory (a map
// of a million tags' eight million paths took over a GB). From one of
// GitLab's backups, whose restore drops paths again, it is a map
// (newMemKeep).
type keepSet struct {
	mem   map[string]bool
	b     *spill.KeySetBuilder
	set   *spill.KeySet
	added int64
}

// keepMemory is how many bytes of keys a spilled keepSet sorts in memory
// at a time.
const keepMemory = 16 << 20

func newSpilledKeep() *keepSet {
	return &keepSet{b: spill.NewKeySetBuilder("", sha256.Size, keepMemory)}
}

func newMemKeep() *keepSet { return &keepSet{mem: map[string]bool{}} }

// add records path p; before build only.
func (k *keepSet) add(p string) error {
	k.added++
	if k.mem != nil {
		k.mem[p] = true
		return nil
	}
	sum := sha256.Sum256([]byte(p))
	if err := k.b.Add(sum[:]); err != nil {
		return fmt.Errorf("--clean: remembering %s: %w", p, err)
	}
	return nil
}

// drop forgets p again: for the map of a GitLab backup's restore only.
func (k *keepSet) drop(p string) { delete(k.mem, p) }

// build ends the adding: has may follow.
func (k *keepSet) build() error {
	if k.mem != nil || k.set != nil {
		return nil
	}
	set, err := k.b.Build()
	k.b = nil
	if err != nil {
		return fmt.Errorf("--clean: %w", err)
	}
	k.set = set
	return nil
}

// has reports whether p was added; after build.
func (k *keepSet) has(p string) (bool, error) {
	if k.mem != nil {
		return k.mem[p], nil
	}
	sum := sha256.Sum256([]byte(p))
	ok, err := k.set.Has(sum[:])
	if err != nil {
		return false, fmt.Errorf("--clean: %w", err)
	}
	return ok, nil
}

// close removes a spilled set's files.
func (k *keepSet) close() {
	if k == nil {
		return
	}
	if k.b != nil {
		k.b.Close()
		k.b = nil
	}
	if k.set != nil {
		k.set.Close()
	}
}
