package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/integration/sample"
)

// markersAt lists the writes-in-progress markers at a storage root.
func markersAt(t *testing.T, root string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(root, ".regbackup-writing-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLeftoverMarker: a clean restore leaves no marker at the target's
// root; a restore SIGKILLed while it writes leaves its marker and temp
// files, and the next restore removes both. A temp file with no marker (as
// a regbackup older than the markers leaves) is not looked for, so a
// re-run does not walk the tree, until --remove-leftovers asks.
func TestLeftoverMarker(t *testing.T) {
	base := t.TempDir()
	src := filepath.Join(base, "src")
	genTree(t, src, sample.Options{Seed: 11, LayerBytes: 8 << 20, SmallFiles: 40})
	arch := filepath.Join(base, "registry.tar")
	mustRegbackup(t, 0, "backup", "--from", src, "-o", arch, "--compression", "none", "-q")
	locks := filepath.Join(base, "locks")
	restore := func(root string, extra ...string) []string {
		return append([]string{"restore", arch, "--to", root, "--lock-dir", locks, "--concurrency", "2"}, extra...)
	}

	clean := filepath.Join(base, "clean")
	mustRegbackup(t, 0, restore(clean)...)
	if m := markersAt(t, clean); len(m) > 0 {
		t.Fatalf("a restore that ended left its marker: %v", m)
	}

	killed := filepath.Join(base, "killed")
	slow := []string{"REGBACKUP_TEST_IO_DELAY=15ms"}
	var left []string
	for try := 0; try < 3 && len(left) == 0; try++ { // a poll may miss a brief temp file
		code, out := runKillable(t, slow, restore(killed), -1, func() bool { return len(tempFilesUnder(t, killed)) > 0 })
		if code != -1 {
			t.Logf("try %d: the restore ended (exit %d) before a temp file was seen:\n%s", try, code, out)
			continue
		}
		left = tempFilesUnder(t, killed)
	}
	if len(left) == 0 {
		t.Fatal("3 restores killed at their first temp file left none")
	}
	if m := markersAt(t, killed); len(m) != 1 {
		t.Fatalf("the killed restore left markers %v; want one", m)
	}
	_, out := mustRegbackup(t, 0, restore(killed)...)
	if !strings.Contains(out, "did not finish") || !strings.Contains(out, "notice: removed ") {
		t.Errorf("the re-run after the kill does not say it found the killed run and removed its %d temp file(s):\n%s", len(left), out)
	}
	if rest := tempFilesUnder(t, killed); len(rest) > 0 {
		t.Errorf("the re-run left the killed run's temp files %v", rest)
	}
	if m := markersAt(t, killed); len(m) > 0 {
		t.Errorf("the re-run left markers %v", m)
	}

	// No marker: a planted temp file is not looked for (no walk).
	planted := filepath.Join(clean, "docker/registry/v2/blobs/.data.regbackup-0123456789abcdef.tmp")
	if err := os.WriteFile(planted, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, out := mustRegbackup(t, 0, restore(clean)...); strings.Contains(out, "removed") {
		t.Errorf("a re-run with no marker removed something:\n%s", out)
	}
	if !exists(planted) {
		t.Fatal("a re-run with no marker walked the tree and removed the planted temp file")
	}
	if _, out := mustRegbackup(t, 0, restore(clean, "--remove-leftovers")...); !strings.Contains(out, "notice: removed 1 temp file") {
		t.Errorf("--remove-leftovers does not say it removed the planted temp file:\n%s", out)
	}
	if exists(planted) {
		t.Error("--remove-leftovers left the planted temp file")
	}
	if m := markersAt(t, clean); len(m) > 0 {
		t.Errorf("markers left: %v", m)
	}
}
