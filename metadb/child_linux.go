package metadb

import "syscall"

// childAttr makes a PostgreSQL program die with regbackup: a pg_restore
// whose regbackup was killed has its transaction rolled back, and a
// pg_dump its snapshot released, so a second run starts from the same
// state.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
