//go:build !unix

package filesystem

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const (
	chownSupported = false
	oNoFollow      = 0
	oNonBlock      = 0
)

func fileOwner(fs.FileInfo) (uid, gid int, ok bool) { return 0, 0, false }

func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func rmdir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &fs.PathError{Op: "rmdir", Path: dir, Err: syscall.ENOTDIR}
	}
	return os.Remove(dir)
}

func syncFS(string) error { return nil }
