package integration

// GitLab 18.10+ backups hold the registry's metadata database
// (db/registry_database.sql.gz): restore puts it into the database the
// target config names, after the storage.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/integration/servers"
	"github.com/regbackup/regbackup/metadb"
)

// TestGitLabRestoreDatabase: GitLab's registry in database mode, an image
// pushed with crane, a GitLab backup of its storage and of its database
// (pg_dump plain SQL, gzipped, as gitlab-backup writes it). Restored with
// --to-registry-config into an empty storage and an empty database, a
// GitLab registry on them serves the tag with the same digest; a second
// restore into the database that now holds it is refused without --clean.
func TestGitLabRestoreDatabase(t *testing.T) {
	t.Parallel()
	pg := servers.StartPostgres(t)
	src := t.TempDir()
	srcDB := pg.NewDatabase(t, servers.MigratedTemplate(t, pg))
	reg := servers.StartGitLabRegistry(t, servers.GitLabConfig{Storage: servers.FilesystemStorage(src), Postgres: pg, DBName: srcDB})
	layer := makeLayer(t, t.TempDir(), "db", 96*1024)
	crane(t, "append", "-f", layer, "-t", reg.Host+"/group/app:1")
	want := crane(t, "digest", reg.Host+"/group/app:1")

	tools, err := metadb.FindTools("")
	if err != nil {
		missing(t, "PostgreSQL client programs: %v", err)
	}
	plain := filepath.Join(t.TempDir(), "registry_database.sql")
	if out, err := exec.Command(tools.PGDump, "--clean", "--if-exists", "--no-owner", "-f", plain, pg.URL(srcDB)).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	b := MakeGitLabBackup(t, src, GitLabBackupOptions{DatabaseFile: plain})

	dst := filepath.Join(t.TempDir(), "registry")
	dstDB := pg.NewDatabase(t, "")
	cfg := filepath.Join(t.TempDir(), "config.yml")
	target := servers.GitLabConfig{Storage: servers.FilesystemStorage(dst), Postgres: pg, DBName: dstDB}
	if err := os.WriteFile(cfg, []byte(target.YAML(5000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr := mustRegbackup(t, 0, "restore", b.Tar, "--to-registry-config", cfg)
	if !strings.Contains(stderr, "registry database: db/registry_database.sql.gz restored") {
		t.Errorf("restore does not say the database was restored:\n%s", stderr)
	}
	if strings.Contains(stderr, pg.Password) {
		t.Errorf("restore printed the database password:\n%s", stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "docker/registry/lockfiles/database-in-use")); err != nil || !strings.Contains(string(b), `"version":1`) {
		t.Errorf("database-in-use lockfile: %q, %v", b, err)
	}
	r2 := servers.StartGitLabRegistry(t, target)
	if got := crane(t, "digest", r2.Host+"/group/app:1"); got != want {
		t.Errorf("restored registry serves group/app:1 = %s, want %s", got, want)
	}
	crane(t, "validate", "--remote", r2.Host+"/group/app:1")

	// Again: the database holds the repository now; only with --clean.
	_, stderr = expectExit(t, 1, "restore", b.Tar, "--to-registry-config", cfg)
	if line := errorLine(t, stderr); !strings.Contains(line, "--clean") {
		t.Errorf("second restore: %s", line)
	}
	mustRegbackup(t, 0, "restore", b.Tar, "--to-registry-config", cfg, "--clean")
}
