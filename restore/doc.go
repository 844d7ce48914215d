// Package restore reads archives: Restore writes one into registry storage
// in place (blobs verified and committed many at once with bounded memory,
// then, only once the whole archive checked out, the link files in push
// order through linkwriter, then included files, then --clean), taking the
// blobs an incremental archive leaves to its parents from them. Verify
// reads a whole archive (and its parents) and checks it, writing nothing;
// List reads only its catalog.
//
// It is not for writing archives (package backup), for finding archives
// and their parents in a folder or bucket prefix (package store hands it a
// ParentOpener), or for copying storage to storage (package regcopy). It
// does not print: callers follow the work through a progress.Progress and
// Options.Change.
package restore
