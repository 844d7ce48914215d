package sample

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// checkManifests verifies every live manifest's references and returns the
// digests they reference.
func (tr *tree) checkManifests(t *testing.T) map[string]bool {
	t.Helper()
	refs := map[string]bool{}
	for repo, revs := range tr.revisions {
		for dg := range revs {
			where := repo + "@" + dg
			m, kind := tr.parseManifest(t, dg)
			if isIndex(kind) {
				if len(m.Manifests) != 2 {
					t.Errorf("%s: %d children, want 2", where, len(m.Manifests))
				}
				for _, c := range m.Manifests {
					tr.checkRef(t, where, c)
					refs[c.Digest] = true
					if !tr.revisions[repo][c.Digest] {
						t.Errorf("%s: child %s has no revisions link in %s", where, c.Digest, repo)
					}
					if _, ck := tr.parseManifest(t, c.Digest); ck != c.MediaType {
						t.Errorf("%s: child %s is %s, descriptor says %s", where, c.Digest, ck, c.MediaType)
					}
					if c.Platform["architecture"] == "" || c.Platform["os"] == "" {
						t.Errorf("%s: child %s has no platform", where, c.Digest)
					}
				}
				continue
			}
			docker := kind == "application/vnd.docker.distribution.manifest.v2+json"
			cfgType, layerType := "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"
			if docker {
				cfgType, layerType = "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"
			}
			if m.Config == nil || m.Config.MediaType != cfgType {
				t.Errorf("%s: config %+v, want media type %s", where, m.Config, cfgType)
				continue
			}
			all := append([]desc{*m.Config}, m.Layers...)
			for i, l := range all {
				tr.checkRef(t, where, l)
				refs[l.Digest] = true
				if !tr.layers[repo][l.Digest] {
					t.Errorf("%s: %s has no _layers link in %s", where, l.Digest, repo)
				}
				if i > 0 && l.MediaType != layerType {
					t.Errorf("%s: layer media type %s, want %s", where, l.MediaType, layerType)
				}
			}
			var cfg struct {
				RootFS struct {
					DiffIDs []string `json:"diff_ids"`
				} `json:"rootfs"`
			}
			if err := json.Unmarshal(tr.blobs[m.Config.Digest], &cfg); err != nil || len(cfg.RootFS.DiffIDs) != len(m.Layers) {
				t.Errorf("%s: config %s: %v, %d diff_ids for %d layers", where, m.Config.Digest, err, len(cfg.RootFS.DiffIDs), len(m.Layers))
				continue
			}
			for i, l := range m.Layers {
				if got := tr.diffID(t, l.Digest); got != cfg.RootFS.DiffIDs[i] {
					t.Errorf("%s: layer %s unpacks to %s, config says %s", where, l.Digest, got, cfg.RootFS.DiffIDs[i])
				}
			}
		}
	}
	return refs
}

// check verifies every invariant of a generated tree against reg.
func check(t *testing.T, d drivers.Driver, reg *Registry) *tree {
	t.Helper()
	tr := scan(t, d)

	sizes := map[string]int64{}
	for dg, b := range tr.blobs {
		sizes[dg] = int64(len(b))
	}
	if !reflect.DeepEqual(sizes, reg.Blobs) {
		t.Errorf("Registry.Blobs (%d) differs from the stored blobs (%d)", len(reg.Blobs), len(sizes))
	}

	var repos []string
	for repo := range tr.revisions {
		repos = append(repos, repo)
	}
	sort.Strings(repos)
	if !slices.Equal(repos, reg.Repositories) {
		t.Errorf("Repositories = %q, storage has %q", reg.Repositories, repos)
	}
	for _, repo := range repos {
		if len(tr.layers[repo]) == 0 {
			t.Errorf("%s: no _layers links (Distribution 2.8 would not list it)", repo)
		}
	}
	for repo := range tr.layers {
		if tr.revisions[repo] == nil {
			t.Errorf("%s: _layers but no revisions", repo)
		}
	}

	refs := tr.checkManifests(t)

	var tags []Image
	for k, dg := range tr.current {
		_, kind := tr.parseManifest(t, dg)
		tags = append(tags, Image{Repo: k[0], Tag: k[1], Digest: dg, MediaType: kind})
		if !tr.revisions[k[0]][dg] {
			t.Errorf("%s:%s: current %s has no revisions link", k[0], k[1], dg)
		}
		if !slices.Contains(tr.index[k], dg) {
			t.Errorf("%s:%s: current %s missing from the tag index %q", k[0], k[1], dg, tr.index[k])
		}
	}
	for k := range tr.index {
		if _, ok := tr.current[k]; !ok {
			t.Errorf("%s:%s: tag index without current link", k[0], k[1])
		}
	}
	sort.Slice(tags, func(i, j int) bool {
		return tags[i].Repo < tags[j].Repo || tags[i].Repo == tags[j].Repo && tags[i].Tag < tags[j].Tag
	})
	if !reflect.DeepEqual(tags, reg.Tags) {
		t.Errorf("Registry.Tags differ from storage:\n got %v\nwant %v", reg.Tags, tags)
	}

	var garbage []string
	for dg := range tr.blobs {
		if !tr.named[dg] {
			garbage = append(garbage, dg)
		}
		if !tr.named[dg] && refs[dg] {
			t.Errorf("%s: referenced by a live manifest but named by no link", dg)
		}
	}
	sort.Strings(garbage)
	if !slices.Equal(garbage, reg.Garbage) {
		t.Errorf("Garbage = %q, unlinked blobs are %q", reg.Garbage, garbage)
	}
	if len(reg.Garbage) != len(reg.Deleted)+1 {
		t.Errorf("want the garbage blob plus the deleted manifests, got %d garbage, %d deleted", len(reg.Garbage), len(reg.Deleted))
	}

	if len(reg.Deleted) != 1 {
		t.Errorf("Deleted = %q, want one", reg.Deleted)
	}
	for _, dg := range reg.Deleted {
		tr.parseManifest(t, dg) // its blob stays
		if refs[dg] || tr.named[dg] {
			t.Errorf("deleted manifest %s is still linked or referenced", dg)
		}
	}

	if !slices.Equal(tr.uploads, reg.Uploads) {
		t.Errorf("Uploads = %q, storage has %q", reg.Uploads, tr.uploads)
	}
	return tr
}

// checkShape verifies the fixed repositories have what the package promises.
func checkShape(t *testing.T, tr *tree, reg *Registry) {
	t.Helper()
	byTag := map[repoTag]Image{}
	kinds := map[string]map[string]bool{}
	for _, im := range reg.Tags {
		byTag[repoTag{im.Repo, im.Tag}] = im
		if kinds[im.Repo] == nil {
			kinds[im.Repo] = map[string]bool{}
		}
		kinds[im.Repo][im.MediaType] = true
	}
	for _, repo := range []string{"alpha", "alpha/tools", "group/sub/app", "multi", "team/beta"} {
		if !slices.Contains(reg.Repositories, repo) {
			t.Errorf("repository %s missing", repo)
		}
	}
	want := map[string][]string{
		"alpha":     {"application/vnd.docker.distribution.manifest.v2+json"},
		"team/beta": {"application/vnd.oci.image.manifest.v1+json"},
		"multi":     {"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json"},
	}
	for repo, mts := range want {
		if got := slices.Sorted(func(yield func(string) bool) {
			for k := range kinds[repo] {
				yield(k)
			}
		}); !slices.Equal(got, mts) {
			t.Errorf("%s: tag media types %q, want %q", repo, got, mts)
		}
	}
	if len(tr.revisions["multi"]) != 6 {
		t.Errorf("multi: %d manifests, want 2 indexes + 4 children", len(tr.revisions["multi"]))
	}

	latest := repoTag{"alpha", "latest"}
	if len(tr.index[latest]) != 2 || byTag[latest].Digest != byTag[repoTag{"alpha", "2.0"}].Digest {
		t.Errorf("alpha:latest should have moved from 1.0 to 2.0: index %q, current %s", tr.index[latest], byTag[latest].Digest)
	}
	if _, ok := byTag[repoTag{"alpha", "0.9"}]; ok {
		t.Errorf("alpha:0.9 should be gone with its manifest")
	}
	if m, _ := tr.parseManifest(t, byTag[repoTag{"team/beta", "v1"}].Digest); m.MediaType != "" {
		t.Errorf("team/beta:v1 should have no mediaType field")
	}

	shared := 0
	counts := map[string]int{}
	for _, ls := range tr.layers {
		for dg := range ls {
			if counts[dg]++; counts[dg] == 3 {
				shared++
			}
		}
	}
	if shared == 0 {
		t.Errorf("no layer is shared by three repositories")
	}

	var data, started bool
	for _, p := range reg.Uploads {
		data = data || strings.HasPrefix(p, UploadPath("alpha", "")) && strings.HasSuffix(p, "/data")
		started = started || strings.HasSuffix(p, "/startedat")
	}
	if !data || !started {
		t.Errorf("want an upload with data and startedat in alpha, got %q", reg.Uploads)
	}
}

// layerBytes sums the distinct layers of every manifest, live or deleted.
func layerBytes(t *testing.T, tr *tree, reg *Registry) int64 {
	mans := slices.Clone(reg.Deleted)
	for _, revs := range tr.revisions {
		for dg := range revs {
			mans = append(mans, dg)
		}
	}
	seen := map[string]bool{}
	var n int64
	for _, dg := range mans {
		m, _ := tr.parseManifest(t, dg)
		for _, l := range m.Layers {
			if !seen[l.Digest] {
				seen[l.Digest] = true
				n += l.Size
			}
		}
	}
	return n
}
