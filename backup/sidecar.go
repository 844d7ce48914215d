package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// SidecarPath is where an archive's sidecar lives: beside it, its name plus
// ".meta.json".
func SidecarPath(archivePath string) string { return archivePath + archive.MetaSuffix }

// WriteSidecar writes m beside archivePath, through a temp file and a
// rename. m.Archive is set to the archive's file name.
func WriteSidecar(archivePath string, m *archive.Meta) error {
	m.Archive = filepath.Base(archivePath)
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	target := SidecarPath(archivePath)
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(target), "."+filepath.Base(target)+".partial-"+hex.EncodeToString(rnd[:]))
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing sidecar: %w", err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing sidecar: %w", err)
	}
	return nil
}

// readSidecar reads the sidecar of archivePath. It returns an error
// wrapping os.ErrNotExist when there is none, and ignores (as absent) a
// sidecar that does not describe the file as it is now (another size: the
// archive was replaced after the sidecar was written).
func readSidecar(archivePath string) (*archive.Meta, error) {
	data, err := os.ReadFile(SidecarPath(archivePath))
	if err != nil {
		return nil, err
	}
	m, err := archive.ParseMeta(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SidecarPath(archivePath), err)
	}
	if err := describesFile(m, archivePath); err != nil {
		return nil, err
	}
	return m, nil
}

// describesFile checks that sidecar m describes archivePath as it is now
// (see readSidecar) and names m's archive after the file, following a
// rename of both.
func describesFile(m *archive.Meta, archivePath string) error {
	if fi, err := os.Stat(archivePath); err != nil {
		return err
	} else if m.Size != 0 && fi.Size() != m.Size {
		return fmt.Errorf("%s describes a file of %d bytes, the archive has %d: %w", SidecarPath(archivePath), m.Size, fi.Size(), os.ErrNotExist)
	}
	m.Archive = filepath.Base(archivePath)
	return nil
}

// readSidecarHead is readSidecar without the blob list (Blobs nil), for
// callers that only order archives, identify them and follow their
// parents: it decodes what a sidecar holds before "blobs" (times,
// checksum, size, parents) and skips the thousands of blob entries after,
// most of the decoding time. A sidecar laid out otherwise than Marshal
// writes it, or damaged, is decoded whole.
func readSidecarHead(archivePath string) (*archive.Meta, error) {
	data, err := os.ReadFile(SidecarPath(archivePath))
	if err != nil {
		return nil, err
	}
	head, ok := jsonHead(data, "blobs")
	if !ok {
		return readSidecar(archivePath)
	}
	var m archive.Meta
	if err := json.Unmarshal(head, &m); err != nil || !headValid(&m) {
		return readSidecar(archivePath) // laid out otherwise, or damaged: the whole decode says what is wrong
	}
	if err := describesFile(&m, archivePath); err != nil {
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
func describeHead(ctx context.Context, archivePath string, ids []age.Identity) (*archive.Meta, error) {
	m, err := readSidecarHead(archivePath)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return m, err
	}
	return Describe(ctx, archivePath, ids, false)
}

// Describe returns what an archive file holds: its sidecar when there is
// one, else its catalog (and, with whole, the whole archive read and
// verified, so that blobs its trailer marks missing or corrupt are left
// out). An encrypted archive without a sidecar needs ids.
func Describe(ctx context.Context, archivePath string, ids []age.Identity, whole bool) (*archive.Meta, error) {
	m, err := readSidecar(archivePath)
	if err == nil {
		return m, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.Open(archivePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ar, err := archive.NewReaderOptions(f, archive.ReaderOptions{Identities: ids})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archivePath, err)
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
				return nil, fmt.Errorf("%s: %w", archivePath, err)
			}
		}
		tr = ar.Trailer()
	}
	m = archive.NewMeta(filepath.Base(archivePath), ar.Catalog(), ar.CatalogSHA256(), tr, ar.Encrypted(), ar.Compression())
	if fi, err := f.Stat(); err == nil {
		m.Size = fi.Size()
	}
	return m, nil
}
