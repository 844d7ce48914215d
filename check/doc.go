// Package check is the fsck of live registry storage: Check reads every
// link file and every manifest they name (through snapshot.Take), reports
// what a registry would fail to serve (malformed or dangling links,
// missing or corrupt manifests and blobs) as damage, and lists what is
// merely worth knowing: orphaned blobs (what garbage collection would
// delete) and stale uploads. With ReadData it hashes every blob.
//
// It is not for repairing anything: it writes nothing. It does not print:
// callers get a Report and follow the work through a progress.Progress.
package check
