// Package lock keeps two regbackup runs from working on the same registry
// storage at once: two backups, or a backup and a restore, of one location
// never overlap. A run takes an exclusive lock (backup, restore) or a shared
// one (check, which only reads) before it touches the storage.
//
// Locks live in a local folder (DefaultDir, /run/lock/regbackup), never in
// the registry's storage, keyed by the normalized location, so they work
// the same for filesystem roots and object stores, and they serialise runs
// on one host only. Each lock is a file held with flock(2): the kernel
// releases it when its holder exits, however it exits (SIGKILL included),
// so a crashed run never leaves a lock that must be broken by hand, and no
// two processes can both "break" a stale lock: acquiring is one atomic
// flock call, followed by a check that the file locked is still the one at
// its path (the last holder removes it on release). Beside the lock
// file, every holder writes a small JSON record (user, host, pid, command,
// start time) so that a run that finds the lock taken can say who holds
// it; records left by crashed runs are found and removed by the next
// holder, which reports them as Stale.
package lock
