package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The metadata database of GitLab's container registry, in an archive of a
// registry that keeps its repositories, tags and manifests there
// (Catalog.Metadata == MetadataDatabase): the catalog describes it
// (Catalog.Database), and the dump follows the catalog, before the blobs, as
// DatabaseRoot + "part-NNNNNN.sha256-<hex>" entries of at most
// DatabasePartSize bytes each, numbered from 1, each named with the sha256 of
// its bytes. The dump is what the concatenated parts hold: pg_dump's custom
// format (DumpFormatCustom). The trailer counts the parts and their bytes
// (Trailer.Database).
const (
	DatabaseRoot     = MetaRoot + "database/"
	DatabasePartSize = 8 << 20
	// MetadataDatabase is Catalog.Metadata for a registry whose metadata is
	// in GitLab's database; "" means storage (link files and manifests).
	MetadataDatabase = "database"
	// DumpFormatCustom is Database.DumpFormat for pg_dump --format=custom.
	DumpFormatCustom = "pg_dump-custom"
)

// Database describes the metadata database a catalog's repositories, tags
// and manifests were read from, and the dump the archive holds of it. It
// holds no secrets.
type Database struct {
	Source         string `json:"source"`         // postgres://user@host:port/dbname (no password)
	ServerVersion  string `json:"server_version"` // PostgreSQL's, e.g. "15.18 (Debian 15.18-0+deb12u1)"
	ServerMajor    int    `json:"server_major"`
	SchemaVersion  string `json:"schema_version"` // newest schema_migrations row
	PostDeploy     string `json:"post_deploy_schema_version,omitempty"`
	DumpFormat     string `json:"dump_format"`    // DumpFormatCustom
	DumpTool       string `json:"dump_tool"`      // pg_dump --version
	ManifestsBytes int64  `json:"manifest_bytes"` // payload bytes of Catalog.Manifests (held by the dump)
}

// DumpSummary is the trailer's count of the dump parts written.
type DumpSummary struct {
	Parts int   `json:"parts"`
	Bytes int64 `json:"bytes"`
}

// ErrNoDump is returned (wrapped) by Close when the catalog describes a
// database but no dump was written.
var ErrNoDump = errors.New("the catalog describes a metadata database but no dump was written")

// WriteDatabase writes the dump read from r (until io.EOF) as parts, right
// after the catalog and before any blob. It holds one part in memory at a
// time. An error from r is returned as it is: the archive is then unusable.
func (w *Writer) WriteDatabase(r io.Reader) (int64, error) {
	if w.stage != stageCatalog || w.dbParts > 0 || w.catalog != nil {
		return 0, fmt.Errorf("archive: database dump written out of order (after the catalog, once, before the blobs)")
	}
	if !w.hasDB {
		return 0, fmt.Errorf("archive: database dump for a catalog that describes no database")
	}
	buf := make([]byte, DatabasePartSize)
	var total int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			sum := sha256.Sum256(buf[:n])
			w.dbParts++
			if herr := w.header(DatabasePartName(w.dbParts, hex.EncodeToString(sum[:])), int64(n), 0o600); herr != nil {
				return total, herr
			}
			if _, werr := w.tw.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			if w.dbParts == 0 {
				return 0, fmt.Errorf("archive: the database dump is empty")
			}
			w.trailer.Database = &DumpSummary{Parts: w.dbParts, Bytes: total}
			return total, nil
		case err != nil:
			return total, err
		}
	}
}

// DatabasePartName is the entry name of dump part n (from 1) whose bytes
// have the hex sha256 sum.
func DatabasePartName(n int, sum string) string {
	return fmt.Sprintf("%spart-%06d.sha256-%s", DatabaseRoot, n, sum)
}

// parseDatabasePart reads a DatabasePartName.
func parseDatabasePart(name string) (n int, sum string, ok bool) {
	rest, ok := strings.CutPrefix(name, DatabaseRoot+"part-")
	if !ok {
		return 0, "", false
	}
	num, sum, ok := strings.Cut(rest, ".sha256-")
	if !ok || len(num) != 6 || !ValidDigest("sha256:"+sum) {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	return n, sum, err == nil && n > 0
}

// databaseEntry checks a dump part entry: in order, in sequence, of a
// catalog that describes a database, not too big; its Body verifies the
// sha256 its name gives.
func (r *Reader) databaseEntry(name string, size int64) (*Entry, error) {
	if err := r.order(stageCatalog, name); err != nil {
		return nil, err
	}
	n, sum, ok := parseDatabasePart(name)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: not a database dump part name: %w", name, ErrCorrupt)
	case r.catalog.Database == nil:
		return nil, fmt.Errorf("%s: a database dump in an archive whose catalog describes no database: %w", name, ErrCorrupt)
	case n != r.dbParts+1:
		return nil, fmt.Errorf("%s: database dump part %d follows part %d: %w", name, n, r.dbParts, ErrCorrupt)
	case size <= 0 || size > DatabasePartSize:
		return nil, fmt.Errorf("%s: database dump part of %d bytes: %w", name, size, ErrCorrupt)
	}
	r.dbParts++
	r.dbBytes += size
	r.cur = newVerifier(r.tr, name, "sha256:"+sum, size)
	return &Entry{Name: name, DatabasePart: n, Size: size, Body: r.cur}, nil
}

// checkDatabase compares the trailer's dump count with what was read.
func (r *Reader) checkDatabase(t *Trailer) error {
	want := DumpSummary{}
	if t.Database != nil {
		want = *t.Database
	}
	if want.Parts != r.dbParts || want.Bytes != r.dbBytes {
		return fmt.Errorf("trailer counts %d database dump parts (%d bytes), the archive holds %d (%d bytes): %w",
			want.Parts, want.Bytes, r.dbParts, r.dbBytes, ErrCorrupt)
	}
	if r.catalog.Database != nil && r.dbParts == 0 {
		return fmt.Errorf("the catalog describes a metadata database but the archive holds no dump of it: %w", ErrIncomplete)
	}
	return nil
}
