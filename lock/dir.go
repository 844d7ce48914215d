package lock

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SystemDir is where locks live by default: a folder every user can create
// locks in (mode 1777, like /run/lock itself), so runs as root and as the
// registry's user serialise too.
const SystemDir = "/run/lock/regbackup"

// DefaultDir is SystemDir when /run/lock exists, else a folder of the same
// kind in the system's temp folder.
func DefaultDir() string {
	if fi, err := os.Stat(filepath.Dir(SystemDir)); err == nil && fi.IsDir() {
		return SystemDir
	}
	return filepath.Join(os.TempDir(), "regbackup-locks")
}

// ensureDir makes the lock folder. The default folders are shared by all
// users (mode 1777: anyone may create a lock, only its owner may remove
// it); a folder the user chose is created 0755 if missing and otherwise
// used as it is.
func ensureDir(dir string, shared bool) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("lock folder %s is not a folder (set another with --lock-dir)", dir)
		}
		return nil
	}
	mode := os.FileMode(0o755)
	if shared {
		mode = 0o777 | os.ModeSticky
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating lock folder: %w (set another with --lock-dir or REGBACKUP_LOCK_DIR)", err)
	}
	if shared {
		// MkdirAll's mode is cut by the umask; a shared folder needs all of it.
		if err := os.Chmod(dir, mode); err != nil {
			return fmt.Errorf("lock folder %s: %w", dir, err)
		}
	}
	return nil
}

// fileName is the lock file name for a location: readable, and unique
// thanks to a hash of the whole location ("file___var_lib_registry-<hash>").
func fileName(location string) string {
	sum := sha256.Sum256([]byte(location))
	var b strings.Builder
	for _, r := range location {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	return strings.TrimLeft(b.String(), ".") + "-" + hex.EncodeToString(sum[:8]) + ".lock"
}
