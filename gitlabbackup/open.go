package gitlabbackup

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// Form says which of GitLab's forms a backup was read from.
type Form string

const (
	FormBackup   Form = "GitLab backup"           // <backup_id>_gitlab_backup.tar
	FormRegistry Form = "GitLab registry tarball" // registry.tar.gz alone
	FormFolder   Form = "extracted GitLab backup" // the outer tar extracted
)

// RegistryPart is the registry's tarball inside the outer tar, and
// DatabasePart the registry metadata database dump GitLab 18.10 and later
// add beside it.
const (
	RegistryPart = "registry.tar.gz"
	DatabasePart = "db/registry_database.sql.gz"
)

// Part is a part of the outer backup other than the registry tarball that
// a caller may want: the registry database dump.
type Part struct {
	Name string
	Size int64
}

// Options configure Open and OpenFolder.
type Options struct {
	// Note, when set, is told each Note as it is found (Reader.Notes keeps
	// them all too).
	Note func(Note)
	// Database, when set, is given the content of db/registry_database.sql.gz
	// when the backup holds it, while the stream passes; it must read body
	// to its end (or fail). Without it the dump is passed over, and
	// Reader.Database still says it was there.
	Database func(p Part, body io.Reader) error
}

// Open reads the start of r, which may be GitLab's outer backup tar or a
// registry tarball (gzip, zstd or none, by magic bytes), and returns a
// Reader positioned before the first registry entry. An outer tar whose
// backup_information.yml, read before its registry part, says the registry
// was skipped fails with ErrRegistrySkipped; a stream that is neither form
// fails with ErrNotGitLab. Nothing is read beyond what tells the form,
// the caller's r is not closed.
func Open(r io.Reader, opts Options) (*Reader, error) {
	dec, comp, err := archive.Decompress(r)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(dec)
	hdr, err := tr.Next()
	if err != nil {
		dec.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no entries: %w", ErrNotGitLab)
		}
		return nil, fmt.Errorf("%w: %v", ErrNotGitLab, err)
	}
	rd := newReader(opts)
	switch name := strings.TrimPrefix(hdr.Name, "./"); {
	case isRegistryName(name):
		rd.form, rd.comp, rd.inner, rd.innerDec, rd.pending = FormRegistry, comp, tr, dec, hdr
		return rd, nil
	case isOuterName(name):
		rd.form, rd.outer, rd.outerDec, rd.pendingOuter = FormBackup, tr, dec, hdr
		if err := rd.findRegistry(); err != nil {
			rd.Close()
			return nil, err
		}
		return rd, nil
	}
	dec.Close()
	return nil, fmt.Errorf("first entry is %q, neither %s nor ./docker/registry/...: %w", hdr.Name, InfoName, ErrNotGitLab)
}

// OpenFolder opens a GitLab backup extracted into dir: its
// backup_information.yml (when there), registry.tar.gz, and the database
// dump beside it. The Reader closes the files.
func OpenFolder(dir string, opts Options) (*Reader, error) {
	rd := newReader(opts)
	rd.form = FormFolder
	if data, err := os.ReadFile(filepath.Join(dir, InfoName)); err == nil {
		if err := rd.setInfo(data); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", InfoName, err)
	}
	if rd.info != nil && rd.info.SkippedPart("registry") {
		return nil, rd.skippedErr()
	}
	f, err := os.Open(filepath.Join(dir, RegistryPart))
	if errors.Is(err, os.ErrNotExist) {
		if rd.info == nil {
			return nil, fmt.Errorf("%s holds neither %s nor %s: %w", dir, InfoName, RegistryPart, ErrNotGitLab)
		}
		return nil, fmt.Errorf("%s: no %s beside %s: %w", dir, RegistryPart, InfoName, ErrRegistrySkipped)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", RegistryPart, err)
	}
	rd.closers = append(rd.closers, f)
	if err := rd.openRegistry(f); err != nil {
		rd.Close()
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, RegistryPart), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, DatabasePart)); err == nil && fi.Mode().IsRegular() {
		rd.db = &Part{Name: DatabasePart, Size: fi.Size()}
		if opts.Database != nil {
			// Read after the registry, as it would be from a stream.
			rd.dbFile = filepath.Join(dir, DatabasePart)
		}
	}
	return rd, nil
}

// isRegistryName reports whether an entry name (without "./") is the root
// of a registry tarball or inside it.
func isRegistryName(name string) bool {
	return name == "" || name == "." || name == "docker" || strings.HasPrefix(name, "docker/")
}

// isOuterName reports whether a name is one of the outer tar's: the
// information file, a part's tarball (uploads.tar.gz, registry.tar.gz,
// ...) or a part's folder (db/, repositories/).
func isOuterName(name string) bool {
	top, _, _ := strings.Cut(name, "/")
	if top == InfoName || top == "db" || top == "repositories" {
		return true
	}
	base, ok := strings.CutSuffix(top, ".tar.gz")
	if !ok {
		base, _, ok = strings.Cut(top, ".tar")
	}
	if !ok || base == "" {
		return false
	}
	for _, c := range base {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}
