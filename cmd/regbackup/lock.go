package main

import (
	"errors"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/lock"
)

// lockFlags are the flags of commands that lock the storage they work on.
func lockFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "wait", Usage: "if another run holds the storage, wait up to `DURATION` (e.g. 30m) for it instead of failing at once (exit 4)"},
		&cli.StringFlag{Name: "lock-dir", EnvVars: []string{"REGBACKUP_LOCK_DIR"}, Usage: "`DIR` for the lock files that keep runs on one host apart (default " + lock.SystemDir + ")"},
	}
}

// lockKey is the name a storage location is locked under: its driver's
// description (no secrets), with symlinks resolved for a filesystem root
// so that two spellings of one folder share a lock.
func lockKey(d drivers.Driver) string {
	if fd, ok := d.(*filesystem.Driver); ok {
		if real, err := filepath.EvalSymlinks(fd.Root()); err == nil {
			if rd, err := filesystem.New(real, filesystem.Options{}); err == nil {
				return rd.String()
			}
		}
	}
	return d.String()
}

// lockStorage takes the lock on d, exclusive (backup, restore) or shared
// (check), held until the run finishes, with any taken before it (copy
// locks its source and its target). A held lock fails the run at once
// (exit 4) naming its holder, or after --wait.
func (r *run) lockStorage(d drivers.Driver, shared bool) error {
	return r.lockName(lockKey(d), shared)
}

// lockName takes the lock named key (a location without secrets) as
// lockStorage does.
func (r *run) lockName(key string, shared bool) error {
	me := lock.Me(r.out.Command, key)
	opts := lock.Options{Dir: r.c.String("lock-dir"), Shared: shared}
	l, err := lock.Acquire(r.c.Context, key, me, opts)
	var he *lock.HeldError
	if errors.As(err, &he) && r.c.Duration("wait") > 0 {
		if !r.c.Bool("quiet") {
			r.rep.printf("waiting up to %s: %v\n", r.c.Duration("wait"), err)
		}
		opts.Wait = r.c.Duration("wait")
		l, err = lock.Acquire(r.c.Context, key, me, opts)
	}
	if errors.As(err, &he) {
		r.out.LockedBy = he.Holders
	}
	if err != nil {
		return err
	}
	r.locks = append(r.locks, l)
	r.out.StaleLocks = append(r.out.StaleLocks, l.Stale...)
	for _, h := range l.Stale {
		if !r.c.Bool("quiet") {
			r.rep.printf("notice: an earlier %s did not finish (killed or crashed?); the kernel released its lock\n", h)
		}
	}
	return nil
}
