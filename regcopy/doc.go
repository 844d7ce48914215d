// Package regcopy copies a registry's storage to another storage, backend
// to backend, with no archive in between: Copy snapshots the source
// (snapshot.Take), copies the blobs the selected repositories need, each
// verified by digest on the way (or copied inside the storage service when
// the target can), syncs the target and only then writes the link files in
// push order (linkwriter), so the target never has a link to a blob it
// lacks. It is resumable and never deletes anything at the target. A copy
// may be cut into shards by digest (Shard), run side by side, each copying
// its blobs and nothing else, and a plain copy after them writes the links.
//
// It is named regcopy, not copy, so as not to shadow the builtin. It is not
// for archives (packages backup and restore) and does not print: callers
// follow it through a progress.Progress and Options.Change.
package regcopy
