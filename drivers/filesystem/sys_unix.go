//go:build unix

package filesystem

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

const (
	chownSupported = true
	// oNoFollow makes open fail on a symlink instead of following it.
	oNoFollow = syscall.O_NOFOLLOW
	// oNonBlock keeps open from hanging on a FIFO; Reader then refuses it
	// as not a regular file. It has no effect on regular files.
	oNonBlock = syscall.O_NONBLOCK
)

// fileOwner returns the numeric owner of fi.
func fileOwner(fi fs.FileInfo) (uid, gid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// isNotFound tells whether an error from open/stat means "no such file":
// missing, a parent that is not a folder, or a symlink refused by O_NOFOLLOW.
func isNotFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.ELOOP)
}

// rmdir removes an empty folder and nothing else.
func rmdir(dir string) error {
	if err := syscall.Rmdir(dir); err != nil {
		return &fs.PathError{Op: "rmdir", Path: dir, Err: err}
	}
	return nil
}

// syncFS flushes the filesystem that holds dir.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return syncfs(int(f.Fd()))
}
