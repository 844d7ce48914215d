// Package filesystem is the Driver for a registry stored in a local folder
// (the registry's "filesystem" storage driver, rootdirectory
// /var/lib/registry by default).
//
// It registers the "file" scheme: "file:///var/lib/registry" and plain paths
// ("/var/lib/registry", "./data") open a Driver rooted there.
//
// What it guarantees beyond the drivers.Driver contract:
//
//   - The root folder is never created, removed, renamed or replaced by Put
//     or Delete (it is often a mount point). New creates it only when it is
//     missing, and says so through Created.
//   - Put writes a temp file in the destination's folder, named
//     ".<base>.regbackup-<random>.tmp", fsyncs it and renames it over the
//     destination, so readers (the registry included) see the old file or
//     the whole new one. A symlink at the destination is replaced, never
//     followed. Cleanup removes temp files of Puts still in flight, for
//     signal handlers.
//   - Symlinks found below the root are invisible: Walk skips them and Stat,
//     Reader and Delete treat them as missing. Symlinks in the root path
//     itself, and in folders named explicitly in a path, are followed by the
//     operating system as usual.
//   - Temp files of killed runs: RemoveLeftovers walks the tree for them
//     only when a marker at the root (".regbackup-writing-<random>", beside
//     docker/) says a run began writing and never ended; BeginWrites writes
//     a run's marker and EndWrites removes it. WalkLeftovers always walks.
//   - Walk skips temp files: regbackup's own and the registry's
//     ("<name>.<uuid>.tmp").
//   - Ownership: see Options.
package filesystem
