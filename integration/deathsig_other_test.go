//go:build !linux

package integration

import "syscall"

// dieWithTest: only Linux has a parent-death signal; elsewhere t.Cleanup
// alone stops the child. (The integration tests run on Linux; this keeps
// `GOOS=darwin go vet ./...` clean.)
func dieWithTest() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
