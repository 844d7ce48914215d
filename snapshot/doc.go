// Package snapshot is what a registry holds, read consistently: every link
// file under repositories/ first, then every manifest they name (index
// children too), then which blobs exist, so that a blob pushed meanwhile is
// either referenced and present or not referenced at all (on an object
// store the blob listing runs beside the link walk, and a blob it missed is
// looked up directly; a listing's MD5 vouches for a link file's content
// without a read when it matches the digest expected there: see vouch.go).
// A Snapshot says
// it all: links in restore order, parsed manifests, the blobs present and
// the blobs to copy, and the problems found (dangling, malformed or
// repaired links, corrupt manifests). backup turns it into an archive,
// regcopy into another storage, check into a report.
//
// Take reads it from storage through a driver; GitLab's metadata database
// is meant to be a second source of the same answer, filling the same
// Snapshot (see its doc comment).
//
// It is not for writing anything, and it does not read blob content other
// than manifests (backup and check do). It does not print: problems go to
// a problem.List and phases to a progress.Progress.
package snapshot
