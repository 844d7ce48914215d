package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRemoveStale: only the temp files TempName names for the
// target's own base name go; the file itself, other files' temp files and
// look-alikes stay.
func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "registry.key")
	stale := []string{".registry.key.regbackup-0123456789ab.tmp", ".registry.key.regbackup-ba9876543210.tmp"}
	kept := []string{"registry.key", ".other.key.regbackup-0123456789ab.tmp", ".registry.key.regbackup-0123.tmp",
		"0123456789ab.tmp", ".registry.key.regbackup-0123456789ab.tmpx"}
	for _, n := range append(append([]string(nil), stale...), kept...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if n := RemoveStale(target); n != len(stale) {
		t.Errorf("RemoveStale = %d, want %d", n, len(stale))
	}
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	slices.Sort(kept)
	if !slices.Equal(got, kept) {
		t.Errorf("left %q, want %q", got, kept)
	}
	if n := RemoveStale(filepath.Join(dir, "missing", "f")); n != 0 {
		t.Errorf("in a missing folder: %d", n)
	}
}
