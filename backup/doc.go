// Package backup is regbackup's registry-aware core: it takes a consistent
// snapshot of a registry's storage (link files first, then the manifests
// they name), streams the blobs the snapshot references into an archive,
// restores archives in place, and verifies and lists them.
//
// The package does not print. Callers follow long work through Progress
// (phase callbacks and atomic counters) and get what went wrong as Problems
// in the returned report; errors wrap the sentinels of this package and of
// archive and drivers, so the CLI can map them to exit codes in one place.
package backup
