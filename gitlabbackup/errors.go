package gitlabbackup

import "errors"

// Sentinels callers branch on with errors.Is. Unsafe entries, corrupt
// streams and digest mismatches are archive's (archive.ErrUnsafePath,
// archive.ErrCorrupt, archive.ErrIncomplete, archive.ErrDigestMismatch).
var (
	// ErrNotGitLab: the stream is neither GitLab's outer backup tar nor a
	// registry tarball.
	ErrNotGitLab = errors.New("not a GitLab backup")
	// ErrRegistrySkipped: the backup was made without its registry part
	// (SKIP=registry, or the registry was disabled): nothing to restore.
	ErrRegistrySkipped = errors.New("GitLab backup holds no container registry")
)

// Note is something found in the stream worth telling: a stray file left
// out, a malformed link file (Damage), a part of the backup passed over.
type Note struct {
	Damage  bool   // data a registry would fail to serve
	Path    string // entry path, relative to the registry root
	Digest  string
	Message string
}
