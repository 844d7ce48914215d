//go:build !linux

package metadb

import "syscall"

// childAttr is nil where the kernel cannot kill a child with its parent
// (macOS): a pg_restore whose regbackup was killed then runs to its end.
func childAttr() *syscall.SysProcAttr { return nil }
