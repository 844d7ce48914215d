package archive

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// dbArchive writes a database-mode archive: catalog, a dump of n bytes,
// one blob, no links.
func dbArchive(t *testing.T, dump []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: None})
	must(t, err)
	blob := []byte("layer bytes")
	cat := &Catalog{Source: "test", Created: time.Unix(1700000000, 0), Metadata: MetadataDatabase,
		Database: &Database{Source: "postgres://registry@db:5432/registry", ServerVersion: "15.18", ServerMajor: 15,
			SchemaVersion: "20250101000000_x", DumpFormat: DumpFormatCustom, DumpTool: "15.18"},
		Repositories: []Repository{{Name: "group/app", Tags: []Tag{{Name: "v1", Current: digestOf([]byte("m"))}}}},
		Blobs:        []Blob{{Digest: digestOf(blob), Size: int64(len(blob))}}}
	must(t, w.WriteCatalog(cat))
	n, err := w.WriteDatabase(bytes.NewReader(dump))
	must(t, err)
	if n != int64(len(dump)) {
		t.Fatalf("WriteDatabase wrote %d of %d bytes", n, len(dump))
	}
	if _, err := w.WriteDatabase(bytes.NewReader(dump)); err == nil {
		t.Fatal("a second dump was accepted")
	}
	if _, err := w.WriteBlob(digestOf(blob), int64(len(blob)), bytes.NewReader(blob), false); err != nil {
		t.Fatal(err)
	}
	must(t, w.Close())
	return buf.Bytes()
}

// TestDatabaseDumpRoundTrip: a dump of more than one part comes back in
// order, byte for byte, before the blobs, and the trailer counts it.
func TestDatabaseDumpRoundTrip(t *testing.T) {
	dump := make([]byte, DatabasePartSize+12345)
	rand.New(rand.NewSource(2)).Read(dump)
	r, err := NewReader(bytes.NewReader(dbArchive(t, dump)))
	must(t, err)
	var got bytes.Buffer
	var parts []int
	blobs := 0
	for {
		e, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		switch {
		case e.DatabasePart > 0:
			if blobs > 0 {
				t.Errorf("dump part %d after a blob", e.DatabasePart)
			}
			parts = append(parts, e.DatabasePart)
			if _, err := io.Copy(&got, e.Body); err != nil {
				t.Fatal(err)
			}
		case e.Path.Kind == KindBlob:
			blobs++
		}
	}
	if !bytes.Equal(got.Bytes(), dump) || len(parts) != 2 || parts[0] != 1 || parts[1] != 2 || blobs != 1 {
		t.Errorf("parts %v, %d of %d bytes back intact=%v, blobs %d", parts, got.Len(), len(dump), bytes.Equal(got.Bytes(), dump), blobs)
	}
	if tr := r.Trailer(); tr.Database == nil || tr.Database.Parts != 2 || tr.Database.Bytes != int64(len(dump)) {
		t.Errorf("trailer database %+v", r.Trailer().Database)
	}
	if c := r.Catalog(); c.Metadata != MetadataDatabase || c.Database.SchemaVersion != "20250101000000_x" {
		t.Errorf("catalog %q %+v", c.Metadata, c.Database)
	}
}

// TestDatabaseDumpDamage: a flipped byte in a part is a digest mismatch of
// that part; a catalog describing a database without a dump is refused by
// the writer.
func TestDatabaseDumpDamage(t *testing.T) {
	dump := []byte(strings.Repeat("PGDMP custom format bytes ", 100))
	data := dbArchive(t, dump)
	i := bytes.Index(data, []byte("custom format"))
	data[i] ^= 0x20
	_, _, err := readAll(data)
	var de *DigestError
	if !errors.As(err, &de) || !strings.Contains(de.Path, DatabaseRoot+"part-000001") {
		t.Errorf("flipped byte in the dump: %v", err)
	}

	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: None})
	must(t, err)
	must(t, w.WriteCatalog(&Catalog{Created: time.Unix(1700000000, 0), Metadata: MetadataDatabase, Database: &Database{}}))
	if err := w.Close(); !errors.Is(err, ErrNoDump) {
		t.Errorf("Close without the dump: %v", err)
	}
	w, err = NewWriter(&buf, WriterOptions{Compression: None})
	must(t, err)
	must(t, w.WriteCatalog(&Catalog{Created: time.Unix(1700000000, 0)}))
	if _, err := w.WriteDatabase(bytes.NewReader(dump)); err == nil {
		t.Errorf("a dump in an archive whose catalog describes no database")
	}
}
