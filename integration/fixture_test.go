package integration

// A realistic registry content, pushed with crane only, and the checks that a
// registry still serves it (after a restart, a backup/restore, ...).

import (
	"archive/tar"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// Fixture is what PushFixture put into a registry. Refs carry no host.
type Fixture struct {
	// Tags maps every tag ref "repo:tag" to the manifest digest it serves.
	Tags map[string]string
	// Deleted is the digest of the manifest deleted by digest (in DeletedRepo);
	// no tag points to it and the registry must answer 404 for it.
	Deleted     string
	DeletedRepo string
	// Untagged lists "repo@digest" manifests that exist but no tag points to:
	// index children pushed by digest and images superseded by a mutate. A
	// full backup/restore must keep them servable.
	Untagged []string
	// Repos is the sorted catalog.
	Repos []string
	// SharedLayer is the digest of the layer blob pushed to both team/beta and
	// group/sub/app.
	SharedLayer string
}

// Media types the fixture is made of.
const (
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// makeLayer writes a gzip'ed tar with a few files of random bytes (about
// size bytes in total) into dir and returns its path.
func makeLayer(t testing.TB, dir, name string, size int) string {
	t.Helper()
	p := filepath.Join(dir, name+".tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: mtime}); err != nil {
		t.Fatal(err)
	}
	parts := []int{size / 2, size / 3, size - size/2 - size/3}
	for i, n := range parts {
		data := make([]byte, n)
		rand.Read(data)
		h := &tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("%s/file%d.bin", name, i), Mode: 0o644, Size: int64(n), ModTime: mtime}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// manifestJSON is the part of a manifest or index the harness looks at.
type manifestJSON struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		Digest string `json:"digest"`
	} `json:"config"`
	Layers []struct {
		Digest string `json:"digest"`
	} `json:"layers"`
	Manifests []struct {
		Digest    string `json:"digest"`
		MediaType string `json:"mediaType"`
		Platform  *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		} `json:"platform"`
	} `json:"manifests"`
}

func getManifest(t testing.TB, ref string) manifestJSON {
	t.Helper()
	var m manifestJSON
	out := crane(t, "manifest", ref)
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("manifest %s: %v\n%s", ref, err, out)
	}
	return m
}

// digestOf extracts the digest from crane's "host/repo@sha256:..." output.
func digestOf(t testing.TB, craneOut string) string {
	t.Helper()
	_, d, ok := strings.Cut(strings.TrimSpace(craneOut), "@")
	if !ok || !strings.HasPrefix(d, "sha256:") || len(d) != 71 {
		t.Fatalf("no digest in crane output %q", craneOut)
	}
	return d
}

// PushFixture pushes, with crane only, a realistic set of images to r:
//
//	alpha:v1, alpha:v2          Docker v2 manifests, v2 = v1 + one layer
//	alpha:latest                first tagged to v1, then moved to v2
//	team/beta:1.0, :2.0         OCI manifests; 1.0's layer is shared with group/sub/app
//	group/sub/app:stable        nested name; based on alpha:v1 (cross-repo mount) + the shared layer
//	multi:list                  Docker manifest list of linux/amd64 + linux/arm64/v8, children untagged
//	multi:oci                   OCI index of the same platforms (OCI children), children untagged
//	multi@<Deleted>             a manifest deleted by digest (it was multi:tmp)
//
// and returns what the registry serves afterwards.
func PushFixture(t testing.TB, r *Registry) Fixture {
	t.Helper()
	tool(t, "crane")
	start := time.Now()
	dir := t.TempDir()
	const kib = 1024
	l1 := makeLayer(t, dir, "l1", 300*kib)
	l2 := makeLayer(t, dir, "l2", 200*kib)
	l3 := makeLayer(t, dir, "l3", 150*kib)
	shared := makeLayer(t, dir, "shared", 250*kib)
	lamd := makeLayer(t, dir, "amd64", 120*kib)
	larm := makeLayer(t, dir, "arm64", 130*kib)
	R := func(ref string) string { return r.Ref(ref) }

	// alpha: Docker media types, v2 on top of v1, latest -> v1.
	crane(t, "append", "-f", l1, "-t", R("alpha:v1"))
	crane(t, "append", "-b", R("alpha:v1"), "-f", l2, "-t", R("alpha:v2"))
	crane(t, "tag", R("alpha:v1"), "latest")

	// team/beta: OCI media types; the shared layer first lands here.
	crane(t, "append", "--oci-empty-base", "-f", shared, "-t", R("team/beta:1.0"))
	crane(t, "append", "-b", R("team/beta:1.0"), "-f", l3, "-t", R("team/beta:2.0"))

	// group/sub/app: nested name, alpha:v1's layer mounted across repositories,
	// plus the same shared tarball pushed a second time into another repository.
	crane(t, "append", "-b", R("alpha:v1"), "-f", shared, "-t", R("group/sub/app:stable"))

	// The tag moves: alpha:latest now names v2.
	crane(t, "tag", R("alpha:v2"), "latest")

	// multi: per-platform children pushed by digest only (as buildx does),
	// built through a scratch tag that is finally deleted by digest.
	var untagged []string
	child := func(ociBase bool, layer, platform string) string {
		args := []string{"append", "-f", layer, "-t", R("multi:tmp")}
		if ociBase {
			args = append(args, "--oci-empty-base")
		}
		crane(t, args...)
		pre := crane(t, "digest", R("multi:tmp"))
		d := digestOf(t, crane(t, "mutate", "--set-platform", platform, "--repo", R("multi"), R("multi:tmp")))
		untagged = append(untagged, "multi@"+pre, "multi@"+d)
		return d
	}
	a := child(false, lamd, "linux/amd64")
	b := child(false, larm, "linux/arm64/v8")
	crane(t, "index", "append", "--docker-empty-base", "-m", R("multi@"+a), "-m", R("multi@"+b), "-t", R("multi:list"))
	c := child(true, lamd, "linux/amd64")
	e := child(true, larm, "linux/arm64/v8")
	crane(t, "index", "append", "-m", R("multi@"+c), "-m", R("multi@"+e), "-t", R("multi:oci"))

	// Delete by digest (Debian's 2.8 cannot delete by tag): the manifest
	// multi:tmp points to now, which no other tag or index names. The
	// registry removes the tag with it.
	deleted := crane(t, "digest", R("multi:tmp"))
	untagged = slices.DeleteFunc(untagged, func(s string) bool { return s == "multi@"+deleted })
	crane(t, "delete", R("multi@"+deleted))

	f := Fixture{
		Tags:        map[string]string{},
		Deleted:     deleted,
		DeletedRepo: "multi",
		Untagged:    untagged,
		Repos:       []string{"alpha", "group/sub/app", "multi", "team/beta"},
	}
	sort.Strings(f.Untagged)

	// Record what is served, and make sure it is what we meant to build.
	if got := catalog(t, r); !slices.Equal(got, f.Repos) {
		t.Fatalf("fixture catalog = %v, want %v", got, f.Repos)
	}
	for _, repo := range f.Repos {
		for _, tag := range listTags(t, r, repo) {
			f.Tags[repo+":"+tag] = crane(t, "digest", R(repo+":"+tag))
		}
	}
	want := []string{"alpha:latest", "alpha:v1", "alpha:v2", "group/sub/app:stable", "multi:list", "multi:oci", "team/beta:1.0", "team/beta:2.0"}
	if got := sortedKeys(f.Tags); !slices.Equal(got, want) {
		t.Fatalf("fixture tags = %v, want %v", got, want)
	}
	if f.Tags["alpha:latest"] != f.Tags["alpha:v2"] || f.Tags["alpha:latest"] == f.Tags["alpha:v1"] {
		t.Fatalf("alpha:latest = %s, want alpha:v2 = %s (not v1 %s)", f.Tags["alpha:latest"], f.Tags["alpha:v2"], f.Tags["alpha:v1"])
	}
	for ref, d := range f.Tags {
		if d == f.Deleted {
			t.Fatalf("tag %s still points to the deleted manifest %s", ref, d)
		}
	}
	wantMT := map[string]string{
		"alpha:v1": mtDockerManifest, "alpha:v2": mtDockerManifest, "group/sub/app:stable": mtDockerManifest,
		"team/beta:1.0": mtOCIManifest, "team/beta:2.0": mtOCIManifest,
		"multi:list": mtDockerList, "multi:oci": mtOCIIndex,
	}
	ms := map[string]manifestJSON{}
	for ref, mt := range wantMT {
		m := getManifest(t, R(ref))
		ms[ref] = m
		if m.MediaType != mt {
			t.Fatalf("%s mediaType = %q, want %q", ref, m.MediaType, mt)
		}
	}
	for _, ref := range []string{"multi:list", "multi:oci"} {
		var plats []string
		for _, c := range ms[ref].Manifests {
			if c.Platform == nil {
				t.Fatalf("%s: child %s has no platform", ref, c.Digest)
			}
			plats = append(plats, strings.TrimSuffix(c.Platform.OS+"/"+c.Platform.Architecture+"/"+c.Platform.Variant, "/"))
		}
		if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64/v8"}) {
			t.Fatalf("%s platforms = %v", ref, plats)
		}
	}
	beta, app := ms["team/beta:1.0"].Layers, ms["group/sub/app:stable"].Layers
	if len(beta) != 1 || len(app) != 2 || app[1].Digest != beta[0].Digest || app[0].Digest != ms["alpha:v1"].Layers[0].Digest {
		t.Fatalf("layers not shared as intended: beta %v, app %v", beta, app)
	}
	f.SharedLayer = beta[0].Digest
	t.Logf("fixture pushed to registry %s (%s) in %s: %d tags, %d untagged manifests, deleted multi@%s",
		r.Version, r.Host(), time.Since(start).Round(time.Millisecond), len(f.Tags), len(f.Untagged), f.Deleted)
	return f
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// catalog is the sorted `crane catalog`.
func catalog(t testing.TB, r *Registry) []string {
	t.Helper()
	return lines(crane(t, "catalog", r.Host()))
}

// listTags is the sorted `crane ls host/repo`.
func listTags(t testing.TB, r *Registry, repo string) []string {
	t.Helper()
	return lines(crane(t, "ls", r.Ref(repo)))
}

// CheckServes fails the test unless r serves exactly the fixture: the same
// catalog and tags, every tag at its recorded digest and valid (indexes
// with all children, every blob digest-checked), every untagged manifest,
// and not the deleted one.
func CheckServes(t testing.TB, r *Registry, f Fixture) {
	t.Helper()
	tool(t, "crane")
	start := time.Now()
	if got := catalog(t, r); !slices.Equal(got, f.Repos) {
		t.Errorf("registry %s: catalog = %v, want %v", r.Version, got, f.Repos)
	}
	wantTags := map[string][]string{}
	for _, ref := range sortedKeys(f.Tags) {
		repo, tag, _ := strings.Cut(ref, ":")
		wantTags[repo] = append(wantTags[repo], tag)
	}
	for _, repo := range f.Repos {
		got, err := craneErr(t, "ls", r.Ref(repo))
		if err != nil {
			t.Errorf("registry %s: %v", r.Version, err)
			continue
		}
		if gl := lines(got); !slices.Equal(gl, wantTags[repo]) {
			t.Errorf("registry %s: tags of %s = %v, want %v", r.Version, repo, gl, wantTags[repo])
		}
	}
	for _, ref := range sortedKeys(f.Tags) {
		d, err := craneErr(t, "digest", r.Ref(ref))
		if err != nil {
			t.Errorf("registry %s: %v", r.Version, err)
			continue
		}
		if d != f.Tags[ref] {
			t.Errorf("registry %s: %s serves %s, want %s", r.Version, ref, d, f.Tags[ref])
			continue
		}
		if _, err := craneErr(t, "validate", "--remote", r.Ref(ref)); err != nil {
			t.Errorf("registry %s: %v", r.Version, err)
		}
	}
	for _, ref := range f.Untagged {
		if _, err := craneErr(t, "validate", "--remote", r.Ref(ref)); err != nil {
			t.Errorf("registry %s: untagged manifest: %v", r.Version, err)
		}
	}
	if f.Deleted != "" {
		if out, err := craneErr(t, "manifest", r.Ref(f.DeletedRepo+"@"+f.Deleted)); err == nil {
			t.Errorf("registry %s: deleted manifest %s@%s is served again:\n%.300s", r.Version, f.DeletedRepo, f.Deleted, out)
		}
	}
	t.Logf("registry %s (%s) serves the fixture: checked in %s", r.Version, r.Host(), time.Since(start).Round(time.Millisecond))
}
