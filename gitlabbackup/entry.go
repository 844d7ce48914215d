package gitlabbackup

import (
	"archive/tar"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers/filesystem"
)

// maxLinkSize is the most of a link file read; a well-formed one is 71
// bytes, and anything longer is malformed.
const maxLinkSize = 1024

// entry classifies one header of the registry tarball: it returns the
// entry to yield, or nil for one passed over (folders, uploads, temp and
// stray files), or an error for one that must never be restored.
func (r *Reader) entry(hdr *tar.Header) (*archive.Entry, error) {
	if inLostFound(hdr.Name) {
		// What mkfs leaves on a volume, in a tarball made without
		// gitlab-backup's --exclude=lost+found: never restored.
		r.stats.Stray++
		if !r.strayNoted["lost+found"] {
			r.strayNoted["lost+found"] = true
			r.note(Note{Path: "lost+found", Message: "lost+found in the backup is never restored"})
		}
		return nil, nil
	}
	name, err := checkHeader(hdr)
	if err != nil {
		return nil, err
	}
	if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeXGlobalHeader || name == "" {
		return nil, nil
	}
	if !strings.HasPrefix(name, archive.RegistryRoot) {
		// docker/registry/lockfiles/ (a metadata-database marker) and the like.
		r.stray(name, "not part of the registry's v2 tree; not restored")
		return nil, nil
	}
	p := archive.ParsePath(name)
	switch {
	case p.Kind == archive.KindBlob:
		r.stats.Blobs++
		r.stats.BlobBytes += hdr.Size
		r.cur, r.curDigest = archive.NewVerifier(r.inner, name, p.Digest, hdr.Size), p.Digest
		return &archive.Entry{Name: name, Path: p, Size: hdr.Size, Body: r.cur}, nil
	case p.Kind.IsLink():
		return r.link(hdr, name, p)
	case strings.Contains(name, "/_uploads/"):
		r.stats.Uploads++
	case filesystem.IsTempName(path.Base(name)) || strings.HasSuffix(name, ".tmp"):
		r.stats.Temp++
	default:
		r.stray(name, "not part of the registry layout; not restored")
	}
	return nil, nil
}

// link reads and parses a link file. A malformed one is a Damage Note.
func (r *Reader) link(hdr *tar.Header, name string, p archive.Path) (*archive.Entry, error) {
	if hdr.Size > maxLinkSize {
		r.note(Note{Damage: true, Path: name, Message: fmt.Sprintf("link file of %d bytes (a link holds a 71-byte digest); not restored", hdr.Size)})
		return nil, nil
	}
	data, err := io.ReadAll(r.inner)
	if err != nil {
		return nil, streamErr(name, err)
	}
	d, err := archive.ParseLink(data)
	if err != nil {
		r.note(Note{Damage: true, Path: name, Message: err.Error() + "; not restored"})
		return nil, nil
	}
	if p.Kind != archive.KindTagCurrentLink && d != p.Digest {
		r.note(Note{Damage: true, Path: name, Digest: d, Message: fmt.Sprintf("holds %s but its path names %s; not restored", d, p.Digest)})
		return nil, nil
	}
	r.stats.Links++
	return &archive.Entry{Name: name, Path: p, Link: d, Size: hdr.Size, Body: strings.NewReader(d)}, nil
}

// stray notes a file left out, once per folder so that a tree of junk
// does not flood the output.
func (r *Reader) stray(name, why string) {
	r.stats.Stray++
	dir := path.Dir(name)
	if r.strayNoted[dir] {
		return
	}
	r.strayNoted[dir] = true
	r.note(Note{Path: name, Message: why})
}

// inLostFound reports whether an entry name is lost+found or inside it.
func inLostFound(name string) bool {
	n := strings.TrimSuffix(strings.TrimPrefix(name, "./"), "/")
	return archive.SafeName(n) && (n == "lost+found" || strings.HasPrefix(n, "lost+found/"))
}

// checkHeader refuses entry types and names that could write outside a
// restore's target or are not of a registry tree, and returns the name
// relative to the registry root ("" for the root itself).
func checkHeader(h *tar.Header) (string, error) {
	if h.Typeflag == tar.TypeXGlobalHeader {
		return "", nil
	}
	if err := archive.CheckType(h); err != nil {
		return "", err
	}
	name := strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")
	if name == "" || name == "." {
		if h.Typeflag == tar.TypeReg {
			return "", fmt.Errorf("%q: a file in place of the registry root: %w", h.Name, archive.ErrUnsafePath)
		}
		return "", nil
	}
	if !archive.SafeName(name) {
		return "", fmt.Errorf("%q: absolute or parent-relative entry name: %w", h.Name, archive.ErrUnsafePath)
	}
	if name != "docker" && !strings.HasPrefix(name, "docker/") {
		return "", fmt.Errorf("%q: outside docker/, the registry's tree: %w", h.Name, archive.ErrUnsafePath)
	}
	return name, nil
}
