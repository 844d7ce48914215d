package integration

import "syscall"

// dieWithTest makes a child process get SIGKILL when the test process
// dies, so that a crashed test run leaves no registry serving.
func dieWithTest() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
