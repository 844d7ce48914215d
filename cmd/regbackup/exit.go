package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/check"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/gitlabbackup"
	"github.com/regbackup/regbackup/lock"
	"github.com/regbackup/regbackup/snapshot"
	"github.com/regbackup/regbackup/store"
)

// Exit codes. Their words (--json status, --help, metrics, the README) are
// in one table, exitCodes (exitcodes.go).
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
		errors.Is(err, check.ErrDamagedStorage), errors.Is(err, gitlabbackup.ErrDamaged),
		errors.Is(err, drivers.ErrDamaged):
		return exitIntegrity
	}
	return exitError
}

// isCLIUsage recognises urfave/cli's own complaints about the command line
// that do not pass through OnUsageError (which makes flag errors a
// usageError): "help NOSUCH" (a cli.ExitCoder; regbackup's own code makes
// none). By type, never by text: an error that merely mentions "invalid
// value" is not a usage error.
func isCLIUsage(err error) bool {
	var ec cli.ExitCoder
	return errors.As(err, &ec)
}

// message is the one line printed for an error, with a hint of what to do.
func message(ctx context.Context, err error) string {
	var sidecarErr *store.SidecarError
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
	case errors.Is(err, gitlabbackup.ErrDamaged):
		return err.Error() // says what was and was not restored
	case errors.Is(err, gitlabbackup.ErrRegistrySkipped):
		return err.Error() + " (make GitLab's backup without SKIP=registry, or back the registry up with regbackup backup --gitlab)"
	case errors.Is(err, archive.ErrNotRegbackup):
		return err.Error() + " (was it written by regbackup? GitLab backups and registry tarballs, whose entries are docker/registry/v2/..., are read too)"
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
	case errors.As(err, &sidecarErr):
		return err.Error() + " (the archive itself was not read: delete " + sidecarErr.Sidecar +
			" and regbackup reads the archive instead, or check it with regbackup verify)"
	case exitCode(ctx, err) == exitIntegrity:
		return err.Error() + " (this archive cannot be trusted: restore from another archive or take a new backup)"
	}
	var ue usageError
	if errors.As(err, &ue) || isCLIUsage(err) {
		return err.Error() + " (see regbackup --help)"
	}
	return err.Error()
}
