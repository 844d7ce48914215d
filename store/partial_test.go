package store

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRemovePartials: the partial file of a killed writer (unlocked) is
// removed, that of a writer still writing (locked) stays and commits, and
// files that only look alike stay.
func TestRemovePartials(t *testing.T) {
	dir := t.TempDir()
	s := NewLocalStore(dir)
	live, err := s.Create(t.Context(), "live.tar.zst")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(dir, partialName("dead.tar.zst"))
	others := []string{"a.tar.zst", ".a.tar.zst.partial-XYZ", "a.partial-0123456789ab", ".b.partial-0123456789AB"}
	for _, n := range append([]string{filepath.Base(dead)}, others...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.RemovePartials(t.Context(), "live.tar.zst")
	if err != nil || n != 1 {
		t.Errorf("RemovePartials = %d, %v; want 1 (the dead writer's), nil", n, err)
	}
	if _, err := os.Lstat(dead); !os.IsNotExist(err) {
		t.Errorf("the dead writer's partial file is still there: %v", err)
	}
	if err := live.Commit(); err != nil {
		t.Fatalf("the live writer's Commit after RemovePartials: %v", err)
	}
	var got []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append([]string{"live.tar.zst"}, others...)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("folder holds %q, want %q", got, want)
	}
}
