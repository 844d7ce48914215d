package integration

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/integration/sample"
)

// TestRestoreFullDisk restores into a storage root that is too small: the
// restore fails with exit 1 and says what to do, leaves no temp file and no
// link file behind; once there is room the same command completes, skipping
// the blobs the first run committed, and the result is whole.
func TestRestoreFullDisk(t *testing.T) {
	needMount(t)
	src := filepath.Join(t.TempDir(), "src")
	reg := genTree(t, src, sample.Options{Seed: 3, LayerBytes: 24 << 20})
	a := filepath.Join(t.TempDir(), "a.tar.zst")
	mustRegbackup(t, 0, "backup", "--from", src, "-o", a)

	root := filepath.Join(t.TempDir(), "root")
	MountTmpfs(t, root)
	if out, err := exec.Command("mount", "-o", "remount,size=8m", root).CombinedOutput(); err != nil {
		t.Fatalf("remount %s at 8 MiB: %v: %s", root, err, out)
	}
	_, stderr := mustRegbackup(t, 1, "restore", a, "--to", root)
	if line := errorLine(t, stderr); !strings.Contains(line, "no space left") || !strings.Contains(line, "run the same command again") {
		t.Errorf("full disk: error line %q does not say the disk is full and what to do", line)
	}
	if tmp := tempFilesUnder(t, root); len(tmp) > 0 {
		t.Errorf("full disk left temp files: %v", tmp)
	}
	if links := linkFiles(t, root); len(links) > 0 {
		t.Errorf("full disk: %d link files written from an unfinished restore", len(links))
	}
	checkOnlyIntactBlobs(t, root)

	if out, err := exec.Command("mount", "-o", "remount,size=64m", root).CombinedOutput(); err != nil {
		t.Fatalf("remount %s at 64 MiB: %v: %s", root, err, out)
	}
	stdout, _ := mustRegbackup(t, 0, "restore", a, "--to", root, "--json")
	var res struct {
		Report struct{ Skipped, Blobs int } `json:"report"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("restore --json: %v\n%s", err, stdout)
	}
	if res.Report.Skipped == 0 {
		t.Errorf("second restore skipped no blob; the first run's committed blobs should be kept")
	}
	cur := linkFiles(t, root)
	n := 0
	for _, im := range reg.Tags {
		if _, ok := cur[filepath.Join("docker/registry/v2/repositories", im.Repo, "_manifests/tags", im.Tag, "current/link")]; ok {
			n++
		}
	}
	if n != len(reg.Tags) {
		t.Errorf("after the re-run %d of %d tags are restored", n, len(reg.Tags))
	}
}
