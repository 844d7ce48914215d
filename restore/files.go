package restore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/regbackup/regbackup/archive"
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

// fileTempMarker is in the temp file name of an included file:
// ".<base>.regbackup-<12 hex>.tmp".
const fileTempMarker = ".regbackup-"

// removeStaleTemps removes the temp files that a killed restore left
// beside target (named as writeFileAtomic names them, for target's base
// name only) and returns how many it removed. The restore holds the lock
// of its target storage; a concurrent restore writing the same included
// file elsewhere would race on target itself anyway.
func removeStaleTemps(target string) int {
	dir, prefix := filepath.Dir(target), "."+filepath.Base(target)+fileTempMarker
	entries, _ := os.ReadDir(dir) // a missing folder holds none
	n := 0
	for _, e := range entries {
		h, ok1 := strings.CutPrefix(e.Name(), prefix)
		h, ok2 := strings.CutSuffix(h, ".tmp")
		if !ok1 || !ok2 || !e.Type().IsRegular() {
			continue
		}
		if _, err := hex.DecodeString(h); err != nil || len(h) != 12 {
			continue
		}
		if os.Remove(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
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
	tmp := filepath.Join(dir, "."+filepath.Base(target)+fileTempMarker+hex.EncodeToString(rnd[:])+".tmp")
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
