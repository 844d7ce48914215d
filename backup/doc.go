// Package backup turns a snapshot of a registry's storage into an archive:
// Backup takes the snapshot (snapshot.Take), streams the blobs it plans
// into an archive.Writer in digest order (many read at once, one writer),
// then the link files and the included files (--include-file). With
// Options.Base the archive is incremental: blobs the base archive or its
// parents hold are left to them.
//
// It is not for restoring, verifying or listing archives (package
// restore), for where archives live, their sidecars, chains and pruning
// (package store), or for copying storage to storage (package regcopy).
// It does not print: callers follow the work through a progress.Progress
// and get what went wrong as Problems in the Report; errors wrap the
// sentinels of snapshot, archive and drivers, so that cmd/regbackup maps
// them to exit codes in one place.
package backup
