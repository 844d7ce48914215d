package backup

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/regbackup/regbackup/archive"
)

// maxIncludeSize bounds an included file: key material, certificates and
// htpasswd files are small.
const maxIncludeSize = 64 << 20

type includedFile struct {
	archive.File
	content []byte
}

// readIncludeFiles reads the files given with --include-file, before
// anything is written, so a typo fails the backup at once.
func readIncludeFiles(paths []string) ([]includedFile, error) {
	var out []includedFile
	seen := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("include file %s: %w", p, err)
		}
		abs = filepath.ToSlash(filepath.Clean(abs))
		if seen[abs] {
			continue
		}
		seen[abs] = true
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("include file: %w", err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("include file %s: not a regular file", abs)
		}
		if fi.Size() > maxIncludeSize {
			return nil, fmt.Errorf("include file %s: %d bytes, over the %d-byte limit for key material", abs, fi.Size(), maxIncludeSize)
		}
		content, err := os.ReadFile(abs)
		if err != nil {
			return nil, fmt.Errorf("include file: %w", err)
		}
		sum := sha256.Sum256(content)
		f := archive.File{Path: abs, Entry: archive.FilesRoot + strings.TrimPrefix(abs, "/"),
			Mode: uint32(fi.Mode().Perm()), Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			f.UID, f.GID = int(st.Uid), int(st.Gid)
		}
		out = append(out, includedFile{File: f, content: content})
	}
	return out, nil
}

// isPrivateKey reports whether an included file holds a private key, which
// is always restored with mode 0600.
func isPrivateKey(f archive.File, content []byte) bool {
	return strings.HasSuffix(f.Path, ".key") || bytes.Contains(content, []byte("PRIVATE KEY-----"))
}

// fileTargets decides where included files go: under dir by base name
// (by their whole original path if two share a base name), or at their
// original paths when dir is "".
func fileTargets(files []archive.File, dir string) map[string]string {
	out := map[string]string{}
	bases := map[string]int{}
	for _, f := range files {
		bases[path.Base(f.Path)]++
	}
	for _, f := range files {
		switch {
		case dir == "":
			out[f.Entry] = filepath.FromSlash(f.Path)
		case bases[path.Base(f.Path)] == 1:
			out[f.Entry] = filepath.Join(dir, path.Base(f.Path))
		default:
			out[f.Entry] = filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(f.Path, "/")))
		}
	}
	return out
}

// writeFileAtomic writes content to target through a temp file in the
// same folder and a rename: a symlink at target is replaced, never
// followed, and a failure leaves target as it was.
func writeFileAtomic(target string, content []byte, mode os.FileMode, uid, gid int) error {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(target)+".regbackup-"+hex.EncodeToString(rnd[:])+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, bytes.NewReader(content)); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if os.Geteuid() == 0 && uid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	ok = true
	return nil
}
