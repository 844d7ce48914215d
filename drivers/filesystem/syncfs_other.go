//go:build unix && !linux

package filesystem

import "syscall"

func syncfs(int) error {
	syscall.Sync()
	return nil
}
