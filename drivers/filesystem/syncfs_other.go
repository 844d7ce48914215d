//go:build unix && !linux && !darwin

package filesystem

import "syscall"

func syncfs(int) error {
	syscall.Sync()
	return nil
}
