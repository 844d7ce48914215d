package integration

// GitLab's container registry with its metadata database (issue 12): the
// real registry (.tools/bin/gitlab-registry) on a PostgreSQL cluster of the
// test run, images pushed with crane, regbackup driven through the
// registry's own config.yml.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/integration/servers"
)

// gitlabRegistry is GitLab's registry with its database.
type gitlabRegistry struct {
	*Registry
	pg *servers.Postgres
	db string // the database's name
}

// startGitLab starts GitLab's registry on storage (a filesystem root, or a
// storage section body when root is "") with a database of its own, cloned
// from the migrated template: what a fresh install has.
func startGitLab(t testing.TB, root, storage string) *gitlabRegistry {
	t.Helper()
	pg := servers.StartPostgres(t)
	db := pg.NewDatabase(t, servers.MigratedTemplate(t, pg))
	r := StartRegistryOpts(t, RegistryOptions{Version: VGitLab, Root: root, Storage: storage, Database: databaseSection(pg, db, pg.Port)})
	return &gitlabRegistry{Registry: r, pg: pg, db: db}
}

func databaseSection(pg *servers.Postgres, db string, port int) string {
	return fmt.Sprintf("{enabled: true, host: %s, port: %d, user: %s, password: %s, dbname: %s, sslmode: disable}",
		pg.Host, port, pg.User, pg.Password, db)
}

// freshDatabase stops the registry, drops its database and creates it
// again as a fresh install has it (migrated, no repositories).
func (g *gitlabRegistry) freshDatabase(t testing.TB) {
	t.Helper()
	g.Stop()
	g.pg.Exec(t, "postgres", "DROP DATABASE "+g.db+" WITH (FORCE)",
		"CREATE DATABASE "+g.db+" TEMPLATE "+servers.MigratedTemplate(t, g.pg))
}

// migrate runs `gitlab-registry database migrate up` on the registry's
// config, as the README tells users to after a restore.
func (g *gitlabRegistry) migrate(t testing.TB) {
	t.Helper()
	out, err := exec.Command(servers.GitLabRegistryBin(t), "database", "migrate", "up", g.ConfigPath).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
}

// configWithPort is a copy of the registry's config whose database port is
// port (an unreachable database when nothing listens there).
func (g *gitlabRegistry) configWithPort(t testing.TB, port int) string {
	t.Helper()
	b, err := os.ReadFile(g.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), fmt.Sprintf("port: %d,", g.pg.Port), fmt.Sprintf("port: %d,", port), 1)
	p := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGitLabBackupRestore is the round trip users rely on: crane-pushed
// images (Docker and OCI manifests, an index, a moved tag, a manifest
// deleted by digest) -> backup through the config -> storage emptied, the
// database dropped, recreated and migrated fresh -> restore -> the GitLab
// registry serves every tag with the same digest and `crane validate
// --remote` passes.
func TestGitLabBackupRestore(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	f := PushFixture(t, g.Registry)
	archive := filepath.Join(t.TempDir(), "reg.tar.zst")
	out, errOut, code := Regbackup(t, "backup", "--registry-config", g.ConfigPath, "-o", archive)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, g.pg.Password) {
		t.Errorf("backup printed the database password:\n%s\n%s", out, errOut)
	}
	listOut, errOut, code := Regbackup(t, "list", archive)
	if code != 0 {
		t.Fatalf("list: exit %d\n%s", code, errOut)
	}
	for ref := range f.Tags {
		repo, tag, _ := strings.Cut(ref, ":")
		if !strings.Contains(listOut, repo) || !strings.Contains(listOut, tag) {
			t.Errorf("list does not show %s:\n%s", ref, listOut)
		}
	}
	if !strings.Contains(listOut, "database") {
		t.Errorf("list does not say the archive holds the metadata database:\n%s", listOut)
	}

	g.freshDatabase(t)
	emptyDir(t, root)
	out, errOut, code = Regbackup(t, "restore", archive, "--to-registry-config", g.ConfigPath)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out+errOut, "migrate up") {
		t.Errorf("restore does not tell to run `database migrate up`:\n%s\n%s", out, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "docker/registry/lockfiles/database-in-use")); err != nil {
		t.Errorf("no database-in-use lockfile after the restore: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "docker/registry/v2/repositories")); err == nil {
		t.Errorf("the restore wrote link files: a registry on a database needs none")
	}
	g.migrate(t)
	g.Restart(t)
	CheckServes(t, g.Registry, f)

	// The database now holds repositories: a second restore is refused
	// unless --clean.
	_, errOut, code = Regbackup(t, "restore", archive, "--to-registry-config", g.ConfigPath)
	if code == 0 || !strings.Contains(errOut, "--clean") {
		t.Errorf("restore over a database with repositories: exit %d\n%s", code, errOut)
	}
}

// TestGitLabNeverASilentEmptyBackup: storage-only backups of a registry
// whose metadata is in the database fail and name --registry-config
// (--all-blobs stays the explicit way); an unreachable database fails with
// one line and no fallback.
func TestGitLabNeverASilentEmptyBackup(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	PushFixture(t, g.Registry)
	dir := t.TempDir()
	_, errOut, code := Regbackup(t, "backup", "--from", root, "-o", filepath.Join(dir, "a.tar.zst"))
	if code == 0 || !strings.Contains(errOut, "--registry-config") || !strings.Contains(errOut, "database") {
		t.Errorf("storage-only backup: exit %d\n%s", code, errOut)
	}
	_, errOut, code = Regbackup(t, "check", "--from", root)
	if code == 0 || !strings.Contains(errOut, "--registry-config") || strings.Contains(errOut, "orphan") {
		t.Errorf("storage-only check: exit %d\n%s", code, errOut)
	}
	if _, errOut, code = Regbackup(t, "backup", "--from", root, "--all-blobs", "-o", filepath.Join(dir, "b.tar.zst")); code != 0 {
		t.Errorf("--all-blobs: exit %d\n%s", code, errOut)
	}
	bad := g.configWithPort(t, servers.FreePort(t))
	_, errOut, code = Regbackup(t, "backup", "--registry-config", bad, "-o", filepath.Join(dir, "c.tar.zst"))
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") > 0 || !strings.Contains(errOut, "database") ||
		strings.Contains(errOut, g.pg.Password) {
		t.Errorf("unreachable database: exit %d, want one line without the password:\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.tar.zst")); err == nil {
		t.Errorf("an archive was written although the database was unreachable")
	}
}

// TestGitLabCheck: the database against storage. Healthy passes; a
// referenced blob deleted, and one with a flipped byte (--read-data), are
// each named, exit 3.
func TestGitLabCheck(t *testing.T) {
	root := filepath.Join(t.TempDir(), "registry")
	g := startGitLab(t, root, "")
	f := PushFixture(t, g.Registry)
	out, errOut, code := Regbackup(t, "check", "--registry-config", g.ConfigPath, "--read-data")
	if code != 0 {
		t.Fatalf("healthy check: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "orphan") {
		t.Errorf("check calls the blobs orphans:\n%s\n%s", out, errOut)
	}
	_, layers := manifestLayersRemote(t, g.Registry, f.Tags["alpha:v1"], "alpha")
	gone, flipped := layers[0], f.SharedLayer
	if err := os.Remove(blobFile(root, gone)); err != nil {
		t.Fatal(err)
	}
	flipByte(t, blobFile(root, flipped))
	out, errOut, code = Regbackup(t, "check", "--registry-config", g.ConfigPath)
	if code != 3 || !strings.Contains(out+errOut, strings.TrimPrefix(gone, "sha256:")) {
		t.Errorf("deleted blob: exit %d, want 3 naming %s\n%s\n%s", code, gone, out, errOut)
	}
	out, errOut, code = Regbackup(t, "check", "--registry-config", g.ConfigPath, "--read-data")
	if code != 3 || !strings.Contains(out+errOut, strings.TrimPrefix(flipped, "sha256:")) {
		t.Errorf("flipped byte: exit %d, want 3 naming %s\n%s\n%s", code, flipped, out, errOut)
	}
}

// manifestLayersRemote is the config and layers of repo@digest as the
// registry serves it.
func manifestLayersRemote(t testing.TB, r *Registry, digest, repo string) (string, []string) {
	t.Helper()
	m := getManifest(t, r.Ref(repo+"@"+digest))
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return m.Config.Digest, layers
}
