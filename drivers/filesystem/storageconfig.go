package filesystem

import "github.com/regbackup/regbackup/drivers"

var _ drivers.StorageConfiger = (*Driver)(nil)

// StorageConfig returns the registry storage section that serves this
// folder, for Distribution 2.8 and 3.x alike:
//
//	filesystem: {rootdirectory: /var/lib/registry}
//
// The folder's files must be readable and writable by the registry's user.
func (d *Driver) StorageConfig() (string, map[string]any) {
	return "filesystem", map[string]any{"rootdirectory": d.root}
}
