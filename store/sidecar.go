package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// SidecarPath is where an archive's sidecar lives: beside it, its name plus
// ".meta.json".
func SidecarPath(archivePath string) string { return archivePath + archive.MetaSuffix }

// sidecarOf is the sidecar of the archive ref: same store, name plus
// ".meta.json".
func sidecarOf(ref ArchiveRef) ArchiveRef {
	return ArchiveRef{Store: ref.Store, Name: ref.Name + archive.MetaSuffix}
}

// WriteSidecar writes m beside the archive ref, all or nothing (a local
// temp file and a rename, or one object). m.Archive is set to the
// archive's name.
func WriteSidecar(ctx context.Context, ref ArchiveRef, m *archive.Meta) error {
	m.Archive = ref.Name
	w, err := ref.Store.Create(ctx, sidecarOf(ref).Name)
	if err != nil {
		return fmt.Errorf("writing sidecar: %w", err)
	}
	// Streamed, not marshalled whole: a million tags' sidecar is some 300 MB.
	if _, err := m.WriteTo(w); err != nil {
		w.Abort()
		return fmt.Errorf("writing sidecar %s: %w", sidecarOf(ref), err)
	}
	if _, err := w.Write([]byte{'\n'}); err != nil {
		w.Abort()
		return fmt.Errorf("writing sidecar %s: %w", sidecarOf(ref), err)
	}
	if err := w.Commit(); err != nil {
		return fmt.Errorf("writing sidecar %s: %w", sidecarOf(ref), err)
	}
	return nil
}

// readPrefix reads at most n bytes from the start of a file of a store.
func readPrefix(ctx context.Context, ref ArchiveRef, n int64) ([]byte, error) {
	rc, err := ref.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, n))
}

// readAll reads a whole (small) file of a store.
func readAll(ctx context.Context, ref ArchiveRef) ([]byte, error) {
	rc, err := ref.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// readSidecar reads the sidecar of the archive ref. It returns an error
// wrapping os.ErrNotExist when there is none, and ignores (as absent) a
// sidecar that does not describe the archive as it is now (another size:
// the archive was replaced after the sidecar was written).
//
// The sidecar is streamed, not read whole: its blob list and manifests
// (some 300 MB at a million tags) are read again when asked for (see
// archive.OpenMeta), each time from the store.
func readSidecar(ctx context.Context, ref ArchiveRef) (*archive.Meta, error) {
	side := sidecarOf(ref)
	m, err := archive.OpenMeta(func() (io.ReadCloser, error) { return side.Open(ctx) })
	if errors.Is(err, archive.ErrCorrupt) {
		return nil, &SidecarError{Sidecar: side.String(), Err: err}
	}
	if err != nil {
		return nil, err
	}
	if err := describesFile(ctx, m, ref); err != nil {
		return nil, err
	}
	return m, nil
}

// sidecarHeadBytes is how much of a sidecar readSidecarHead reads for the
// members before its blob list: a few hundred bytes, and some 150 a
// parent.
const sidecarHeadBytes = 256 << 10

// SidecarError is a sidecar that cannot be decoded (it wraps the
// decoder's error, archive.ErrCorrupt). The archive beside it was not
// read: without the sidecar regbackup reads the archive instead.
type SidecarError struct {
	Sidecar string // where it is, as ArchiveRef.String
	Err     error
}

func (e *SidecarError) Error() string { return e.Sidecar + ": " + e.Err.Error() }
func (e *SidecarError) Unwrap() error { return e.Err }

// describesFile checks that sidecar m describes the archive ref as it is
// now (see readSidecar) and names m's archive after it, following a rename
// of both.
func describesFile(ctx context.Context, m *archive.Meta, ref ArchiveRef) error {
	if fi, err := ref.Store.Stat(ctx, ref.Name); err != nil {
		return err
	} else if m.Size != 0 && fi.Size != m.Size {
		return fmt.Errorf("%s describes a file of %d bytes, the archive has %d: %w", sidecarOf(ref), m.Size, fi.Size, os.ErrNotExist)
	}
	m.Archive = ref.Name
	return nil
}

// readSidecarHead is readSidecar without the blob list and the manifests
// after it (Blobs, MediaTypes and Manifests nil), for
// callers that only order archives, identify them and follow their
// parents: it decodes what a sidecar holds before "blobs" (times,
// checksum, size, parents) and skips the thousands of blob entries after,
// most of the decoding time. A sidecar laid out otherwise than Marshal
// writes it, or damaged, is decoded whole.
func readSidecarHead(ctx context.Context, ref ArchiveRef) (*archive.Meta, error) {
	data, err := readPrefix(ctx, sidecarOf(ref), sidecarHeadBytes)
	if err != nil {
		return nil, err
	}
	head, ok := jsonHead(data, "blobs")
	if !ok {
		return readSidecar(ctx, ref)
	}
	var m archive.Meta
	if err := json.Unmarshal(head, &m); err != nil || !headValid(&m) {
		return readSidecar(ctx, ref) // laid out otherwise, or damaged: the whole decode says what is wrong
	}
	if err := describesFile(ctx, &m, ref); err != nil {
		return nil, err
	}
	return &m, nil
}

// headValid checks what ParseMeta checks of the members before "blobs".
func headValid(m *archive.Meta) bool {
	if m.Format != archive.MetaFormat || !archive.ValidDigest("sha256:"+m.CatalogSHA256) {
		return false
	}
	for _, p := range m.Parents {
		if !archive.ValidArchiveName(p.Name) || !archive.ValidDigest("sha256:"+p.CatalogSHA256) {
			return false
		}
	}
	return true
}

// jsonHead returns the members of the JSON object in data that come
// before member key, as an object of their own; ok is false when data is
// not an object holding key.
func jsonHead(data []byte, key string) (head []byte, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		end := dec.InputOffset() // just after '{' or the previous member
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		if t == key {
			return append(data[:end:end], '}'), true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, false
		}
	}
	return nil, false
}

// describeHead is Describe (not whole) without the blob list when a
// sidecar answers (see readSidecarHead).
func describeHead(ctx context.Context, ref ArchiveRef, ids []age.Identity) (*archive.Meta, error) {
	m, err := readSidecarHead(ctx, ref)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	return Describe(ctx, ref, ids, false)
}

// Describe returns what an archive holds: its sidecar when there is
// one, else its catalog (and, with whole, the whole archive read and
// verified, so that blobs its trailer marks missing or corrupt are left
// out). An encrypted archive without a sidecar needs ids.
func Describe(ctx context.Context, ref ArchiveRef, ids []age.Identity, whole bool) (*archive.Meta, error) {
	m, err := readSidecar(ctx, ref)
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return describeArchive(ctx, ref, ids, whole)
}

// describeArchive is Describe from the archive alone, its sidecar not
// read: its catalog (the first entry), and with whole the rest. Errors
// say why the archive cannot be read (archive's sentinels: not a
// regbackup archive, corrupt, encrypted...) or wrap the store's error.
func describeArchive(ctx context.Context, ref ArchiveRef, ids []age.Identity, whole bool) (*archive.Meta, error) {
	f, err := ref.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A sidecar lists the blobs only: the repositories and manifests are
	// not kept.
	var blobs []archive.Blob
	v := &archive.CatalogVisitor{Blob: func(b archive.Blob) error { blobs = append(blobs, b); return nil }}
	ar, err := archive.NewReaderOptions(f, archive.ReaderOptions{Identities: ids, Visitor: v})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	defer ar.Close()
	tr := &archive.Trailer{}
	if whole {
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			_, err := ar.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ref, err)
			}
		}
		tr = ar.Trailer()
	}
	cat := *ar.Catalog()
	cat.Blobs = blobs
	m := archive.NewMeta(ref.Name, &cat, ar.CatalogSHA256(), tr, ar.Encrypted(), ar.Compression())
	if fi, err := ref.Store.Stat(ctx, ref.Name); err == nil {
		m.Size = fi.Size
	}
	return m, nil
}
