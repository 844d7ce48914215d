package filesystem

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// syncfs on macOS: there is no syncfs(2), and fsync(2) (which Put does for
// every file) leaves the data in the drive's cache. sync(2) schedules every
// dirty buffer (the renames' folder updates too) and F_FULLFSYNC on the
// root then asks the drive to write its cache to the medium. A filesystem
// without F_FULLFSYNC (network shares, some FAT/exFAT drives) gets the
// sync(2) alone.
func syncfs(fd int) error {
	syscall.Sync()
	_, err := unix.FcntlInt(uintptr(fd), unix.F_FULLFSYNC, 0)
	if errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
		return nil
	}
	return err
}
