package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

const driverName = "filesystem"

var _ drivers.Driver = (*Driver)(nil)

// Options tunes a Driver.
type Options struct {
	// UID and GID are the owner given to every file and folder Put creates,
	// when SetOwner is true. -1 leaves that id unchanged (as os.Chown).
	UID, GID int
	// SetOwner selects UID and GID as the owner. When false and the process
	// runs as root, the owner defaults to the owner of the root folder, so a
	// restore run as root leaves files the registry's user can write. When
	// false and not root, files keep the process's own ids.
	SetOwner bool
	// Create makes a missing root folder (with its parents, mode 0755).
	// Without it a missing root is an error, so a mistyped source location
	// is never silently taken for an empty registry.
	Create bool
}

// owner is whom created files and folders are chown'ed to.
type owner struct{ uid, gid int }

// Driver stores files below a root folder. It is safe for concurrent use.
type Driver struct {
	root    string // absolute, cleaned
	created bool
	owner   *owner // nil: no chown
	temps   tempSet

	markMu sync.Mutex
	mark   string // the marker file of BeginWrites; "" when none
}

// New returns a Driver rooted at root, made absolute. When root is missing it
// is created if opts.Create (and Created reports true), else New fails; an
// existing root is never replaced. A root that exists but is not a folder
// (or a symlink to one) is an error.
func New(root string, opts Options) (*Driver, error) {
	if root == "" {
		return nil, fmt.Errorf("%s: empty root folder", driverName)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("%s: root %s: %w", driverName, root, err)
	}
	d := &Driver{root: abs}
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) && !opts.Create {
		return nil, fmt.Errorf("%s: root folder %s does not exist (give the registry's storage root, the folder that holds docker/)", driverName, abs)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("%s: create root: %w", driverName, err)
		}
		d.created = true
		fi, err = os.Stat(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: root: %w", driverName, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s: root %s: not a folder", driverName, abs)
	}
	switch {
	case opts.SetOwner:
		if !chownSupported {
			return nil, fmt.Errorf("%s: root %s: setting the owner is not supported on this system", driverName, abs)
		}
		d.owner = &owner{uid: opts.UID, gid: opts.GID}
		if d.created {
			if err := os.Lchown(abs, opts.UID, opts.GID); err != nil {
				return nil, fmt.Errorf("%s: root: %w", driverName, err)
			}
		}
	case os.Geteuid() == 0:
		if uid, gid, ok := fileOwner(fi); ok {
			d.owner = &owner{uid: uid, gid: gid}
		}
	}
	return d, nil
}

// Name returns "filesystem".
func (d *Driver) Name() string { return driverName }

// String returns the root as a file URL, e.g. "file:///var/lib/registry".
func (d *Driver) String() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(d.root)}).String()
}

// Root returns the absolute root folder.
func (d *Driver) Root() string { return d.root }

// Created reports whether New created the root folder because it was
// missing: a hint for callers that a location may have been mistyped.
func (d *Driver) Created() bool { return d.created }

// full maps a checked slash path to its place on disk.
func (d *Driver) full(rel string) string {
	if rel == "" {
		return d.root
	}
	return filepath.Join(d.root, filepath.FromSlash(rel))
}
