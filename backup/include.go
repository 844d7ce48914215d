package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
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
