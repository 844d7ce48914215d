package metadb_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/drivers/regconfig"
	"github.com/regbackup/regbackup/integration/servers"
	"github.com/regbackup/regbackup/metadb"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servers.StopPostgres()
	os.Exit(code)
}

// gitlab is a GitLab registry with its database, for one test.
type gitlab struct {
	pg    *servers.Postgres
	db    string // database name
	root  string // filesystem storage root
	reg   *servers.GitLabRegistry
	crane string
}

func startGitLab(t *testing.T) *gitlab {
	t.Helper()
	pg := servers.StartPostgres(t)
	g := &gitlab{pg: pg, db: pg.NewDatabase(t, servers.MigratedTemplate(t, pg)), root: t.TempDir(), crane: servers.Tool(t, "crane")}
	g.reg = servers.StartGitLabRegistry(t, servers.GitLabConfig{Storage: servers.FilesystemStorage(g.root), Postgres: pg, DBName: g.db})
	return g
}

func (g *gitlab) database(name string) regconfig.Database {
	return regconfig.Database{Enabled: regconfig.DatabaseOn, Host: g.pg.Host, Port: g.pg.Port, User: g.pg.User,
		Password: g.pg.Password, DBName: name, SSLMode: "disable"}
}

func (g *gitlab) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(g.crane, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("crane %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func (g *gitlab) ref(s string) string { return g.reg.Host + "/" + s }

// layer writes an uncompressed tar of n random bytes.
func layer(t *testing.T, n int) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	data := make([]byte, n)
	rand.Read(data)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "f.bin", Mode: 0o644, Size: int64(n), ModTime: time.Unix(1e9, 0)})
	tw.Write(data)
	tw.Close()
	p := filepath.Join(t.TempDir(), "layer.tar")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pushFixture pushes Docker and OCI manifests, an OCI index of two
// platforms, a moved tag and a manifest deleted by digest; it returns the
// deleted digest.
func (g *gitlab) pushFixture(t *testing.T) string {
	t.Helper()
	g.run(t, "append", "-f", layer(t, 40000), "-t", g.ref("alpha:v1"))
	g.run(t, "append", "-b", g.ref("alpha:v1"), "-f", layer(t, 30000), "-t", g.ref("alpha:v2"))
	g.run(t, "tag", g.ref("alpha:v1"), "latest")
	g.run(t, "tag", g.ref("alpha:v2"), "latest") // moved
	g.run(t, "append", "--oci-empty-base", "-f", layer(t, 20000), "-t", g.ref("team/beta:1.0"))
	for _, p := range []string{"linux/amd64", "linux/arm64/v8"} {
		g.run(t, "append", "--oci-empty-base", "-f", layer(t, 10000), "-t", g.ref("multi:tmp"))
		g.run(t, "mutate", "--set-platform", p, "-t", g.ref("multi:"+strings.ReplaceAll(p, "/", "-")), g.ref("multi:tmp"))
	}
	g.run(t, "index", "append", "-m", g.ref("multi:linux-amd64"), "-m", g.ref("multi:linux-arm64-v8"), "-t", g.ref("multi:oci"))
	deleted := g.run(t, "digest", g.ref("multi:tmp"))
	g.run(t, "delete", g.ref("multi@"+deleted))
	return deleted
}

// served is every tag the registry serves ("repo:tag" -> digest).
func (g *gitlab) served(t *testing.T, repos []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range repos {
		for _, tag := range strings.Fields(g.run(t, "ls", g.ref(r))) {
			out[r+":"+tag] = g.run(t, "digest", g.ref(r+":"+tag))
		}
	}
	return out
}

func snapshotTags(s *metadb.Snapshot) map[string]string {
	out := map[string]string{}
	for _, r := range s.Repositories {
		for _, tg := range r.Tags {
			out[r.Path+":"+tg.Name] = tg.Digest
		}
	}
	return out
}

func blobPath(root, dg string) string {
	alg, hx, _ := strings.Cut(dg, ":")
	return filepath.Join(root, "docker/registry/v2/blobs", alg, hx[:2], hx, "data")
}

// TestSnapshotIsWhatTheRegistryServes pushes with crane to a GitLab
// registry on its database, then checks that a snapshot lists exactly the
// tags and digests the registry serves, that every manifest's payload has
// its digest and is what the registry serves, that the deleted manifest is
// gone, and that every referenced blob is in storage with its size.
func TestSnapshotIsWhatTheRegistryServes(t *testing.T) {
	ctx := context.Background()
	g := startGitLab(t)
	deleted := g.pushFixture(t)
	repos := []string{"alpha", "multi", "team/beta"}
	want := g.served(t, repos)

	db, err := metadb.Open(ctx, g.database(g.db))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	snap, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	var paths []string
	for _, r := range snap.Repositories {
		paths = append(paths, r.Path)
	}
	if !slices.Equal(paths, repos) {
		t.Errorf("repositories %v, want %v", paths, repos)
	}
	got := snapshotTags(snap)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("snapshot tags\n%v\nregistry serves\n%v", got, want)
	}
	if got["alpha:latest"] != want["alpha:v2"] {
		t.Errorf("moved tag alpha:latest = %s, want alpha:v2's %s", got["alpha:latest"], want["alpha:v2"])
	}
	if snap.SchemaVersion == "" || snap.Server.Major != 15 || snap.ID == "" {
		t.Errorf("schema %q, server %v, snapshot id %q", snap.SchemaVersion, snap.Server, snap.ID)
	}
	referenced := map[string]bool{}
	for _, m := range snap.Manifests {
		if m.Digest == deleted {
			t.Errorf("the manifest deleted by digest %s is in the snapshot", deleted)
		}
		if d := fmt.Sprintf("sha256:%x", sha256.Sum256(m.Payload)); d != m.Digest {
			t.Errorf("manifest %s: payload digest %s", m.Digest, d)
		}
		if m.MediaType == "application/vnd.oci.image.index.v1+json" {
			if len(m.Children) != 2 || m.Config != "" {
				t.Errorf("index %s: children %v config %q", m.Digest, m.Children, m.Config)
			}
		} else if m.Config == "" || len(m.Layers) == 0 {
			t.Errorf("manifest %s (%s): config %q layers %v", m.Digest, m.MediaType, m.Config, m.Layers)
		}
		for _, r := range m.References() {
			referenced[r] = true
		}
	}
	for ref, d := range want {
		repo, _, _ := strings.Cut(ref, ":")
		served := g.run(t, "manifest", g.ref(repo+"@"+d))
		for _, m := range snap.Manifests {
			if m.Digest == d && strings.TrimSpace(string(m.Payload)) != served {
				t.Errorf("%s: the snapshot's payload is not what the registry serves", ref)
			}
		}
	}
	var blobDigests []string
	for _, b := range snap.Blobs {
		blobDigests = append(blobDigests, b.Digest)
		fi, err := os.Stat(blobPath(g.root, b.Digest))
		if err != nil {
			t.Errorf("referenced blob %s: %v", b.Digest, err)
		} else if fi.Size() != b.Size || b.Size == 0 {
			t.Errorf("blob %s: size %d in the database, %d in storage", b.Digest, b.Size, fi.Size())
		}
		delete(referenced, b.Digest)
	}
	// What remains referenced is manifests (index children), which live in
	// the database, not in storage.
	for d := range referenced {
		if !slices.ContainsFunc(snap.Manifests, func(m metadb.Manifest) bool { return m.Digest == d }) {
			t.Errorf("%s is referenced but neither a blob nor a manifest of the snapshot", d)
		}
	}
	if !sort.StringsAreSorted(blobDigests) || len(blobDigests) < 8 {
		t.Errorf("blobs %v: want sorted, at least 8", blobDigests)
	}
	if _, err := os.Stat(filepath.Join(g.root, "docker/registry/v2/repositories/alpha/_manifests")); err == nil {
		t.Errorf("storage holds manifest links: the registry did not use its database")
	}
}

// TestDumpRestoreRoundTrip dumps a snapshot with pg_dump -Fc and restores it
// into an empty database and into a freshly migrated one; each gives the
// same snapshot and a registry on it serves every tag again. A database
// holding repositories is refused, and replaced only with Clean, here by a
// plain-SQL dump (what gitlab-backup writes) that psql loads.
func TestDumpRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	g := startGitLab(t)
	g.pushFixture(t)
	tools, err := metadb.FindTools(servers.PostgresBinDir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := metadb.Open(ctx, g.database(g.db))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := db.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dumpFile := filepath.Join(t.TempDir(), "registry.dump")
	f, err := os.Create(dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	// A push after the snapshot is not in the dump.
	g.run(t, "append", "-f", layer(t, 5000), "-t", g.ref("late:1"))
	if err := snap.Dump(ctx, tools, f, false); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantTags := snapshotTags(snap)
	wantBlobs := fmt.Sprint(snap.Blobs)
	schema := snap.SchemaVersion
	snap.Close()
	db.Close()

	restore := func(name string, opts metadb.RestoreOptions, dump string) (metadb.RestoreResult, error) {
		t.Helper()
		r, err := os.Open(dump)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		start := time.Now()
		res, err := metadb.Restore(ctx, g.database(name), tools, r, opts)
		t.Logf("restore into %s (%v): %v in %s", res.Before.State, opts, err, time.Since(start).Round(time.Millisecond))
		return res, err
	}
	same := func(name string) {
		t.Helper()
		db, err := metadb.Open(ctx, g.database(name))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := db.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got := snapshotTags(s); fmt.Sprint(got) != fmt.Sprint(wantTags) {
			t.Errorf("%s: tags after restore\n%v\nwant\n%v", name, got, wantTags)
		}
		if fmt.Sprint(s.Blobs) != wantBlobs || s.SchemaVersion != schema {
			t.Errorf("%s: blobs or schema differ after restore (schema %s, want %s)", name, s.SchemaVersion, schema)
		}
	}

	empty := g.pg.NewDatabase(t, "")
	res, err := restore(empty, metadb.RestoreOptions{}, dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	if res.Before.State != metadb.Empty || res.After.State != metadb.HasRepositories {
		t.Errorf("empty target: before %v, after %v", res.Before.State, res.After.State)
	}
	same(empty)

	fresh := g.pg.NewDatabase(t, servers.MigratedTemplate(t, g.pg))
	if res, err = restore(fresh, metadb.RestoreOptions{}, dumpFile); err != nil {
		t.Fatal(err)
	}
	if res.Before.State != metadb.FreshSchema {
		t.Errorf("migrated target: before %v", res.Before.State)
	}
	same(fresh)

	// The target now holds repositories: refused without Clean, unchanged.
	_, err = restore(fresh, metadb.RestoreOptions{}, dumpFile)
	if err == nil || !strings.Contains(err.Error(), "holds 3 repositories") || !strings.Contains(err.Error(), "--clean") {
		t.Errorf("restore over repositories: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), g.pg.Password) {
		t.Errorf("the error shows the password: %v", err)
	}
	// A registry on the restored database serves what the snapshot saw.
	r2 := servers.StartGitLabRegistry(t, servers.GitLabConfig{Storage: servers.FilesystemStorage(g.root), Postgres: g.pg, DBName: fresh})
	for ref, d := range wantTags {
		out, err := exec.Command(g.crane, "digest", r2.Host+"/"+ref).Output()
		if err != nil || strings.TrimSpace(string(out)) != d {
			t.Errorf("restored registry: %s = %q (%v), want %s", ref, out, err, d)
		}
	}
	if out, err := exec.Command(g.crane, "digest", r2.Host+"/late:1").CombinedOutput(); err == nil {
		t.Errorf("late:1, pushed after the snapshot, is served after the restore: %s", out)
	}

	// Plain SQL, as gitlab-backup writes it (pg_dump's default format),
	// over the database that holds repositories: only with Clean.
	plain := filepath.Join(t.TempDir(), "registry_database.sql")
	cmd := exec.Command(tools.PGDump, "--clean", "--if-exists", "--no-owner", "-f", plain, g.pg.URL(empty))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_dump plain: %v\n%s", err, out)
	}
	if res, err = restore(empty, metadb.RestoreOptions{Format: metadb.PlainSQL, Clean: true}, plain); err != nil {
		t.Fatalf("plain SQL restore --clean: %v", err)
	}
	if res.Before.State != metadb.HasRepositories {
		t.Errorf("plain SQL target: before %v", res.Before.State)
	}
	same(empty)
}

// TestVersionsAndUnreachable: a pg_dump older than the server is one error
// naming both versions and Omnibus's folder; an unreachable database is
// one line without the password.
func TestVersionsAndUnreachable(t *testing.T) {
	tools, err := metadb.FindTools("")
	if err != nil {
		t.Fatal(err)
	}
	if tools.Version.Major < 15 {
		t.Errorf("FindTools found %s %v", tools.PGDump, tools.Version)
	}
	err = tools.CanDump(metadb.Version{Major: 17, Minor: 2, Text: "17.2"})
	msg := fmt.Sprint(err)
	for _, s := range []string{"17.2", tools.Version.String(), "/opt/gitlab/embedded/bin", "--pg-bin"} {
		if !strings.Contains(msg, s) {
			t.Errorf("old pg_dump: %q lacks %q", msg, s)
		}
	}
	if _, err := metadb.FindTools(t.TempDir()); err == nil || !strings.Contains(err.Error(), "--pg-bin") {
		t.Errorf("--pg-bin without the tools: %v", err)
	}
	port := servers.FreePort(t)
	cfg := regconfig.Database{Host: "127.0.0.1", Port: port, User: "registry", Password: "very-secret-pw", DBName: "registry", SSLMode: "disable"}
	_, err = metadb.Open(context.Background(), cfg)
	if err == nil || strings.Contains(err.Error(), "very-secret-pw") || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), fmt.Sprintf("postgres://registry@127.0.0.1:%d/registry", port)) {
		t.Errorf("unreachable database: %v", err)
	}
}
