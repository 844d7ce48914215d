package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/check"
	"github.com/regbackup/regbackup/lock"
	"github.com/regbackup/regbackup/snapshot"
)

// Exit codes, documented in the README and in --help.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitIntegrity   = 3
	exitLocked      = 4 // another run holds the storage (lock package); see --wait
	exitParent      = 5 // a parent archive an incremental needs is missing
	exitKey         = 6 // encrypted: no identity given, or none that fits
	exitInterrupted = 130
)

// usageError marks a mistake in the command line.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode is the one place errors become exit codes.
func exitCode(ctx context.Context, err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue) || isCLIUsage(err):
		return exitUsage
	case errors.Is(err, lock.ErrLocked):
		return exitLocked
	case errors.Is(err, archive.ErrParentMissing):
		return exitParent
	case errors.Is(err, archive.ErrEncrypted), errors.Is(err, archive.ErrNoIdentityMatch):
		return exitKey
	case errors.Is(err, archive.ErrParentMismatch):
		return exitIntegrity
	case errors.Is(err, archive.ErrCorrupt), errors.Is(err, archive.ErrIncomplete),
		errors.Is(err, archive.ErrUnsafePath), errors.Is(err, archive.ErrDigestMismatch),
		errors.Is(err, archive.ErrNotRegbackup), errors.Is(err, snapshot.ErrDamagedSource),
		errors.Is(err, check.ErrDamagedStorage):
		return exitIntegrity
	}
	return exitError
}

// isCLIUsage recognises urfave/cli's own complaints about the command line.
func isCLIUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "Required flag") || strings.HasPrefix(s, "flag provided but not defined") ||
		strings.HasPrefix(s, "No help topic") || strings.Contains(s, "invalid value")
}

// message is the one line printed for an error, with a hint of what to do.
func message(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return "interrupted; temporary files removed, nothing half-written was kept"
	case errors.Is(err, syscall.ENOSPC):
		return err.Error() + " (free some space and run the same command again; a restore keeps and skips the blobs it already wrote, a backup leaves no partial archive)"
	case errors.As(err, new(hinted)), errors.Is(err, archive.ErrParentMissing), errors.Is(err, archive.ErrParentMismatch):
		return err.Error() // already says what to do
	case errors.Is(err, archive.ErrEncrypted):
		return err.Error() + " (pass --identity FILE)"
	case errors.Is(err, archive.ErrNoIdentityMatch):
		return err.Error() + " (pass --identity FILE with a key it was encrypted to)"
	case errors.Is(err, archive.ErrNotRegbackup):
		return err.Error() + " (was it written by regbackup? a plain registry tarball can be extracted with tar -x)"
	case errors.Is(err, snapshot.ErrDamagedSource):
		return err.Error() + " (each damaged path is listed above; repair or accept it and run the backup again)"
	case errors.Is(err, check.ErrDamagedStorage):
		return err.Error() + " (each damaged path is listed above; push the affected images again, or restore them from a backup)"
	case errors.Is(err, lock.ErrLocked):
		var he *lock.HeldError
		if errors.As(err, &he) && he.Waited > 0 {
			return err.Error() + " (try again later, or with a longer --wait)"
		}
		return err.Error() + " (wait for it to finish, or use --wait DURATION; a run that crashed holds no lock)"
	case exitCode(ctx, err) == exitIntegrity:
		return err.Error() + " (this archive cannot be trusted: restore from another archive or take a new backup)"
	}
	var ue usageError
	if errors.As(err, &ue) || isCLIUsage(err) {
		return err.Error() + " (see regbackup --help)"
	}
	return err.Error()
}
