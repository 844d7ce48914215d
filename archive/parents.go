package archive

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for incremental archives whose parents cannot be used: store
// returns them when it looks for a parent beside the archive, restore when
// it opens one.
var (
	// ErrParentMissing: a parent archive an incremental needs is neither
	// beside it nor given with --parent.
	ErrParentMissing = errors.New("parent archive missing")
	// ErrParentMismatch: a file found under a parent's name is not the
	// archive the incremental was made on (its catalog checksum differs):
	// replaced, or another backup under the same name.
	ErrParentMismatch = errors.New("parent archive does not match")
)

// ShortSum is the start of a catalog checksum, for messages that name a
// parent by the checksum an incremental recorded for it.
func ShortSum(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "..."
	}
	return sum
}

// ValidArchiveName reports whether name can name a parent archive: a plain
// file name, never a path, so a catalog cannot point a reader at a file
// outside the folder of the archives.
func ValidArchiveName(name string) bool {
	return name != "" && name != "." && name != ".." && len(name) <= 255 &&
		!strings.ContainsAny(name, "/\\\x00")
}

// Incremental reports whether the catalog names parents.
func (c *Catalog) Incremental() bool { return len(c.Parents) > 0 }

// Parent returns the parent of that name, or nil.
func (c *Catalog) Parent(name string) *Parent {
	for i := range c.Parents {
		if c.Parents[i].Name == name {
			return &c.Parents[i]
		}
	}
	return nil
}

// checkParents checks the parents and the blobs said to live in them: the
// format matches, names are plain file names, unique and used, checksums
// well-formed.
func (c *Catalog) checkParents() error {
	if err := c.checkParentNames(); err != nil {
		return err
	}
	used := map[string]bool{}
	for _, p := range c.Parents {
		used[p.Name] = false
	}
	for _, b := range c.Blobs {
		if b.Archive == "" {
			continue
		}
		if _, ok := used[b.Archive]; !ok {
			return fmt.Errorf("catalog: blob %s said to be in %q, which is not a parent: %w", b.Digest, b.Archive, ErrCorrupt)
		}
		used[b.Archive] = true
	}
	for name, u := range used {
		if !u {
			return fmt.Errorf("catalog: parent %q holds none of its blobs: %w", name, ErrCorrupt)
		}
	}
	return nil
}

// checkParentNames checks the parents alone: the format matches, names are
// plain file names, unique, checksums well-formed.
func (c *Catalog) checkParentNames() error {
	switch {
	case c.Format == FormatVersion && len(c.Parents) > 0:
		return fmt.Errorf("catalog: format %s names parents: %w", c.Format, ErrCorrupt)
	case c.Format == FormatIncremental && len(c.Parents) == 0:
		return fmt.Errorf("catalog: format %s without parents: %w", c.Format, ErrCorrupt)
	}
	used := map[string]bool{}
	for _, p := range c.Parents {
		if !ValidArchiveName(p.Name) {
			return fmt.Errorf("catalog: parent %q is not a plain file name: %w", p.Name, ErrUnsafePath)
		}
		if _, ok := used[p.Name]; ok {
			return fmt.Errorf("catalog: parent %q named twice: %w", p.Name, ErrCorrupt)
		}
		if !ValidDigest("sha256:" + p.CatalogSHA256) {
			return fmt.Errorf("catalog: parent %q: bad catalog checksum %q: %w", p.Name, p.CatalogSHA256, ErrCorrupt)
		}
		used[p.Name] = false
	}
	return nil
}
