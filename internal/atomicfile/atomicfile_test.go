package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCommitReplacesAndSyncsTheFolder(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "metrics.prom")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var synced []string
	syncDir = func(d string) error { synced = append(synced, d); return SyncDir(d) }
	t.Cleanup(func() { syncDir = SyncDir })

	if err := WriteFile(target, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if len(synced) != 1 || synced[0] != dir {
		t.Errorf("folders synced after the rename: %q, want [%s]", synced, dir)
	}
	onlyFiles(t, dir, "metrics.prom")
}

func TestAbortLeavesTheTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.tar.zst")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(target, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half"))
	if err := f.Abort(); err != nil {
		t.Fatal(err)
	}
	if f.Commit() == nil {
		t.Error("Commit after Abort succeeded")
	}
	if b, _ := os.ReadFile(target); string(b) != "old" {
		t.Errorf("target holds %q after Abort, want old", b)
	}
	onlyFiles(t, dir, "a.tar.zst")
}

// A symlink planted at the temp name is never followed.
func TestCreateTempRefusesASymlink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "secret")
	target := filepath.Join(dir, "holder")
	if err := os.Symlink(outside, target+".tmp"); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateTemp(target, target+".tmp", 0o644); err == nil {
		t.Fatal("CreateTemp over a symlink succeeded")
	}
	if _, err := os.Lstat(outside); !os.IsNotExist(err) {
		t.Errorf("the symlink's target was created: %v", err)
	}
	if _, err := CreateTemp(target, filepath.Join(t.TempDir(), "x.tmp"), 0o644); err == nil {
		t.Error("CreateTemp with a temp file in another folder succeeded")
	}
}

func onlyFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
		t.Errorf("folder holds %q, want %q (no temp file left)", got, want)
	}
}
