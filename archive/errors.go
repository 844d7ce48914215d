package archive

import (
	"errors"
	"fmt"
)

// Sentinels callers branch on with errors.Is. Every one of them means the
// archive (or the data put into it) cannot be trusted: the CLI maps them to
// the integrity exit code.
var (
	// ErrCorrupt: the archive is damaged or malformed (bad compression
	// stream, bad tar header, bad catalog, entries out of order).
	ErrCorrupt = errors.New("archive is corrupt")
	// ErrIncomplete: the archive ends before its trailer (truncated, or the
	// backup that wrote it was interrupted).
	ErrIncomplete = errors.New("archive is incomplete")
	// ErrUnsafePath: an entry's name or type could write outside the target
	// (absolute path, "..", symlink, hardlink, device) or is not a path a
	// registry archive may hold.
	ErrUnsafePath = errors.New("unsafe archive entry")
	// ErrDigestMismatch: content does not hash to the digest it is stored
	// under.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNotRegbackup: the stream is a readable archive but not one regbackup
	// wrote (no catalog first).
	ErrNotRegbackup = errors.New("not a regbackup archive")
)

// DigestError reports content that does not match its digest.
type DigestError struct {
	Path string // entry or storage path
	Want string // the digest the content is stored under
	Got  string // what it hashed to ("" when the length was wrong)
}

func (e *DigestError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("%s: content length does not match: digest mismatch", e.Path)
	}
	return fmt.Sprintf("%s: content hashes to %s, stored as %s: digest mismatch", e.Path, e.Got, e.Want)
}

func (e *DigestError) Unwrap() error { return ErrDigestMismatch }
