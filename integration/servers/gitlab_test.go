package servers

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopPostgres()
	os.Exit(code)
}

// TestGitLabRegistryServes starts PostgreSQL, clones the migrated template
// and serves a GitLab registry on it; an image crane pushes comes back with
// the digest crane computed, and storage holds blobs but no link files.
func TestGitLabRegistryServes(t *testing.T) {
	pg := StartPostgres(t)
	db := pg.NewDatabase(t, MigratedTemplate(t, pg))
	root := t.TempDir()
	r := StartGitLabRegistry(t, GitLabConfig{Storage: FilesystemStorage(root), Postgres: pg, DBName: db})
	crane := Tool(t, "crane")
	ref := r.Host + "/team/app:v1"
	if out, err := exec.Command(crane, "append", "--oci-empty-base", "-f", "/dev/null", "-t", ref).CombinedOutput(); err != nil {
		t.Fatalf("crane append: %v\n%s", err, out)
	}
	out, err := exec.Command(crane, "digest", ref).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "sha256:") {
		t.Fatalf("crane digest: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "docker/registry/v2/repositories/team/app/_manifests")); err == nil {
		t.Errorf("the registry wrote manifest links to storage: its database is not in use")
	}
	if _, err := os.Stat(filepath.Join(root, "docker/registry/v2/blobs/sha256")); err != nil {
		t.Errorf("no blobs in storage after a push: %v", err)
	}
}
