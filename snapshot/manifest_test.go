package snapshot

import (
	"strings"
	"testing"

	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/problem"
)

func TestParseManifestKinds(t *testing.T) {
	d := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	cases := []struct {
		name, doc string
		index     bool
		refs      int
	}{
		{"docker", `{"schemaVersion":2,"mediaType":"` + mtDockerManifest + `","config":{"digest":"` + d("a") + `"},"layers":[{"digest":"` + d("b") + `"},{"digest":"` + d("b") + `"}]}`, false, 2},
		{"oci no mediaType", `{"schemaVersion":2,"config":{"digest":"` + d("a") + `"},"layers":[{"digest":"` + d("c") + `","urls":["http://x"]}]}`, false, 2},
		{"list", `{"schemaVersion":2,"mediaType":"` + mtDockerList + `","manifests":[{"digest":"` + d("a") + `"}]}`, true, 1},
		{"oci index no mediaType", `{"schemaVersion":2,"manifests":[{"digest":"` + d("a") + `"},{"digest":"` + d("b") + `"}]}`, true, 2},
		{"schema1", `{"schemaVersion":1,"fsLayers":[{"blobSum":"` + d("a") + `"},{"blobSum":"` + d("a") + `"}]}`, false, 1},
	}
	for _, c := range cases {
		pm, err := ParseManifest([]byte(c.doc))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if pm.IsIndex != c.index || len(pm.Refs) != c.refs {
			t.Errorf("%s: index=%v refs=%v", c.name, pm.IsIndex, pm.Refs)
		}
	}
	for _, bad := range []string{`{}`, `not json`, `{"schemaVersion":2}`} {
		if _, err := ParseManifest([]byte(bad)); err == nil {
			t.Errorf("ParseManifest(%s) accepted", bad)
		}
	}
}

func TestGitLabDatabaseModeIsNoticed(t *testing.T) {
	src, _ := regtest.Registry(t)
	src.Put(t.Context(), gitlabDatabaseLock, strings.NewReader("x"), 1)
	snap, err := Take(t.Context(), src, Options{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range snap.Problems() {
		if p.Path == gitlabDatabaseLock && p.Severity == problem.Notice {
			return
		}
	}
	t.Errorf("no notice about GitLab's metadata database in %v", snap.Problems())
}
