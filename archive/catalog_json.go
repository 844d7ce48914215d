package archive

import (
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"time"
)

// The catalog and the sidecar are written by hand-written appenders rather
// than encoding/json's reflection: an incremental backup of an unchanged
// registry is mostly these two documents (a catalog of 1 MiB for 1,000
// tags), and reflection with indentation took a fifth of its time.
//
// The output is what json.Marshal gives, plus a newline before each element
// of the long arrays (repositories, manifests, blobs), so that one line holds
// one element for grep; json.Compact of it is byte for byte json.Marshal's
// (catalog_json_test.go checks that for every field, so a field added to
// these types without being added here fails that test). Readers decode
// either, indented or not: archives written with json.MarshalIndent read
// the same.

// appendCatalog appends c as JSON to b: the whole catalog as one document,
// the form of formats regbackup/1 and /2 (CatalogWriter writes the same
// bytes as it goes, see catalog_writer.go).
func appendCatalog(b []byte, c *Catalog) ([]byte, error) {
	b, err := appendCatalogHead(b, c)
	if err != nil {
		return nil, err
	}
	b = slices.Grow(b, catalogSizeHint(c))
	b = append(b, `,"repositories":`...)
	b = appendList(b, c.Repositories, appendRepository)
	b = append(b, `,"manifests":`...)
	b = appendList(b, c.Manifests, appendManifest)
	b = append(b, `,"blobs":`...)
	b = appendList(b, c.Blobs, appendBlob)
	return appendCatalogEnd(b, c), nil
}

// appendCatalogHead appends c's members before its lists, from the
// opening brace to the parents.
func appendCatalogHead(b []byte, c *Catalog) ([]byte, error) {
	b = append(b, `{"format":`...)
	b = appendString(b, c.Format)
	b = append(b, `,"tool_version":`...)
	b = appendString(b, c.ToolVersion)
	b = append(b, `,"source":`...)
	b = appendString(b, c.Source)
	b = append(b, `,"created":`...)
	b, err := appendTime(b, c.Created)
	if err != nil {
		return nil, err
	}
	if c.AllBlobs {
		b = append(b, `,"all_blobs":true`...)
	}
	if c.Metadata != "" {
		b = append(b, `,"metadata":`...)
		b = appendString(b, c.Metadata)
	}
	if c.Database != nil {
		// One small object: encoding/json is fast enough for it.
		d, err := json.Marshal(c.Database)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"database":`...), d...)
	}
	if len(c.Parents) > 0 {
		if b, err = appendParents(b, c.Parents); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendCatalogEnd appends c's files, if any, and the closing brace.
func appendCatalogEnd(b []byte, c *Catalog) []byte {
	if len(c.Files) > 0 {
		b = append(b, `,"files":`...)
		b = appendList(b, c.Files, appendFile)
	}
	return append(b, '}')
}

// catalogSizeHint is about the size of c's JSON, so that it is appended
// without growing the buffer again and again (a megabyte for 1,000 tags).
func catalogSizeHint(c *Catalog) int {
	n := 1024 + 100*len(c.Blobs) + 120*len(c.Files)
	for _, r := range c.Repositories {
		n += 100 + 74*(len(r.Layers)+len(r.Manifests)) + 100*len(r.Tags)
		for _, t := range r.Tags {
			n += 74 * len(t.Index)
		}
	}
	for _, m := range c.Manifests {
		n += 200 + 74*len(m.References)
	}
	for _, b := range c.Blobs {
		n += len(b.Archive)
	}
	return n + n/4
}

// writeMeta writes m as JSON to w, a buffer of about metaFlush bytes at a
// time: the sidecar of a million tags is some 300 MB of blob lines, made
// one at a time from its BlobList.
func writeMeta(w io.Writer, m *Meta) (int64, error) {
	if err := m.load(); err != nil { // a sidecar OpenMeta read: its lists
		return 0, err
	}
	var written int64
	flush := func(b []byte) ([]byte, error) {
		n, err := w.Write(b)
		written += int64(n)
		return b[:0], err
	}
	b := make([]byte, 0, metaFlush+4096)
	b = append(b, `{"format":`...)
	b = appendString(b, m.Format)
	b = append(b, `,"archive":`...)
	b = appendString(b, m.Archive)
	b = append(b, `,"created":`...)
	b, err := appendTime(b, m.Created)
	if err != nil {
		return 0, err
	}
	b = append(b, `,"catalog_sha256":`...)
	b = appendString(b, m.CatalogSHA256)
	if m.Encrypted {
		b = append(b, `,"encrypted":true`...)
	}
	b = append(b, `,"compression":`...)
	b = appendString(b, string(m.Compression))
	if m.Size != 0 {
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, m.Size, 10)
	}
	if len(m.Parents) > 0 {
		if b, err = appendParents(b, m.Parents); err != nil {
			return 0, err
		}
	}
	b = append(b, `,"blobs":`...)
	if m.list == nil && m.Blobs == nil {
		b = append(b, "null"...) // as encoding/json
	} else {
		blobs := m.BlobList()
		b = append(b, '[')
		for i := range blobs.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			x := blobs.At(i)
			b = append(b, '\n')
			b = appendBlob(b, &x)
			if len(b) >= metaFlush {
				if b, err = flush(b); err != nil {
					return written, err
				}
			}
		}
		b = append(b, ']')
	}
	if len(m.MediaTypes) > 0 {
		b = append(b, `,"media_types":`...)
		b = appendStrings(b, m.MediaTypes)
	}
	if len(m.Manifests) > 0 {
		b = append(b, `,"manifests":[`...)
		for i := range m.Manifests {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			b = appendInts(b, &m.Manifests[i])
			if len(b) >= metaFlush {
				if b, err = flush(b); err != nil {
					return written, err
				}
			}
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	_, err = flush(b)
	return written, err
}

// metaFlush is how many bytes of a sidecar writeMeta gathers before
// writing them.
const metaFlush = 256 << 10

// appendList appends a JSON array of xs, each element on a line of its
// own; null for a nil slice, as encoding/json.
func appendList[T any](b []byte, xs []T, one func([]byte, *T) []byte) []byte {
	if xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = one(b, &xs[i])
	}
	return append(b, ']')
}

func appendParents(b []byte, ps []Parent) ([]byte, error) {
	b = append(b, `,"parents":[`...)
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, p.Name)
		b = append(b, `,"catalog_sha256":`...)
		b = appendString(b, p.CatalogSHA256)
		b = append(b, `,"created":`...)
		var err error
		if b, err = appendTime(b, p.Created); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

func appendRepository(b []byte, r *Repository) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, r.Name)
	b = append(b, `,"layers":`...)
	b = appendStrings(b, r.Layers)
	b = append(b, `,"manifests":`...)
	b = appendStrings(b, r.Manifests)
	if len(r.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range r.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, t.Name)
			if t.Current != "" {
				b = append(b, `,"current":`...)
				b = appendString(b, t.Current)
			}
			if len(t.Index) > 0 {
				b = append(b, `,"index":`...)
				b = appendStrings(b, t.Index)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendManifest(b []byte, m *Manifest) []byte {
	b = append(b, `{"digest":`...)
	b = appendString(b, m.Digest)
	b = append(b, `,"media_type":`...)
	b = appendString(b, m.MediaType)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, m.Size, 10)
	if len(m.References) > 0 {
		b = append(b, `,"references":`...)
		b = appendStrings(b, m.References)
	}
	return append(b, '}')
}

func appendBlob(b []byte, x *Blob) []byte {
	b = append(b, `{"digest":`...)
	b = appendString(b, x.Digest)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, x.Size, 10)
	if x.Archive != "" {
		b = append(b, `,"archive":`...)
		b = appendString(b, x.Archive)
	}
	return append(b, '}')
}

func appendFile(b []byte, f *File) []byte {
	b = append(b, `{"path":`...)
	b = appendString(b, f.Path)
	b = append(b, `,"entry":`...)
	b = appendString(b, f.Entry)
	b = append(b, `,"mode":`...)
	b = strconv.AppendUint(b, uint64(f.Mode), 10)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, f.Size, 10)
	b = append(b, `,"sha256":`...)
	b = appendString(b, f.SHA256)
	b = append(b, `,"uid":`...)
	b = strconv.AppendInt(b, int64(f.UID), 10)
	b = append(b, `,"gid":`...)
	b = strconv.AppendInt(b, int64(f.GID), 10)
	return append(b, '}')
}

// appendStrings appends a JSON array of strings; null for nil.
func appendInts(b []byte, xs *[]int32) []byte {
	if *xs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range *xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string, escaped as encoding/json does:
// the common case (printable ASCII without '"', '\\', '<', '>', '&') is
// copied, anything else goes through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			q, _ := json.Marshal(s) // a string never fails
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON[c] says whether encoding/json writes byte c of a string as it
// is.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c <= 0x7e; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendTime appends t as encoding/json does (RFC 3339 with nanoseconds);
// like it, it fails for a year outside 0 to 9999.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	q, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(b, q...), nil
}
