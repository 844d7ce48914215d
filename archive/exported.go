package archive

import (
	"archive/tar"
	"io"
)

// The pieces of Reader that readers of other registry tarballs (GitLab's
// registry.tar.gz, see package gitlabbackup) share with it, so that they
// detect compression, refuse unsafe names and verify blobs the same way.

// Decompress detects zstd or gzip by the stream's first bytes (anything
// else is read as it is, None) and returns a reader of what is inside.
// Close releases the decompressor, not r.
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) { return decompressor(r) }

// SafeName reports whether an entry name (without a trailing slash) is
// relative, clean and free of "..", backslashes and NUL bytes: a name that
// cannot reach outside the folder it is extracted into.
func SafeName(name string) bool { return safeName(name) }

// CheckType refuses (ErrUnsafePath) every entry but a regular file or a
// folder: symlinks, hardlinks, devices, fifos, sparse files.
func CheckType(h *tar.Header) error { return checkType(h) }

// Verifier streams the size bytes of one entry and checks their sha256
// against the digest the entry is stored under.
type Verifier struct{ v *verifier }

// NewVerifier reads size bytes of r for the entry name, which must hash to
// want ("sha256:<hex>"). Read returns, instead of io.EOF, a *DigestError
// when they do not, and an ErrIncomplete or ErrCorrupt error when r ends or
// fails first.
func NewVerifier(r io.Reader, name, want string, size int64) *Verifier {
	return &Verifier{v: newVerifier(r, name, want, size)}
}

func (v *Verifier) Read(p []byte) (int, error) { return v.v.Read(p) }

// Finish reads what the caller left unread and returns the mismatch (nil
// when the content is intact) and, separately, an error of the stream
// itself, after which nothing more can be read from it.
func (v *Verifier) Finish() (*DigestError, error) {
	if !v.v.finished {
		if _, err := io.Copy(io.Discard, v.v); err != nil && v.v.mismatch == nil && v.v.streamErr == nil {
			return nil, err
		}
	}
	return v.v.mismatch, v.v.streamErr
}
