package restore

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/internal/atomicfile"
)

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
	f, err := atomicfile.Create(target, 0o600)
	if err != nil {
		return err
	}
	if err := fillFile(f.File, content, mode, uid, gid); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// fillFile writes content to f and gives it its mode and owner.
func fillFile(f *os.File, content []byte, mode os.FileMode, uid, gid int) error {
	if _, err := f.Write(content); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if os.Geteuid() == 0 && uid >= 0 {
		return f.Chown(uid, gid)
	}
	return nil
}
