package backup

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/integration/sample"
)

func TestBackupRestoreRoundTrip(t *testing.T) {
	src, reg := newRegistry(t)
	data, rep, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tags != len(reg.Tags) {
		t.Errorf("backup saw %d tags, the registry has %d", rep.Tags, len(reg.Tags))
	}
	dst := newMem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	got := tagsOf(t, dst)
	for _, im := range reg.Tags {
		if got[im.Repo+":"+im.Tag] != im.Digest {
			t.Errorf("%s:%s = %q after restore, want %s", im.Repo, im.Tag, got[im.Repo+":"+im.Tag], im.Digest)
		}
	}
	// Every link file (no uploads) and every referenced blob is identical.
	srcFiles, dstFiles := files(t, src, archive.RegistryRoot), files(t, dst, archive.RegistryRoot)
	garbage := map[string]bool{}
	for _, g := range reg.Garbage {
		garbage[archive.BlobPath(g)] = true
	}
	for p, c := range srcFiles {
		if strings.Contains(p, "/_uploads/") || garbage[p] {
			if _, ok := dstFiles[p]; ok {
				t.Errorf("%s restored; uploads and garbage must be left out", p)
			}
			continue
		}
		if dstFiles[p] != c {
			t.Errorf("%s differs after restore", p)
		}
	}
	for p := range dstFiles {
		if _, ok := srcFiles[p]; !ok {
			t.Errorf("%s restored but not in the source", p)
		}
	}
}

func TestAllBlobsKeepsGarbage(t *testing.T) {
	src, reg := newRegistry(t)
	data, _, err := backupTo(t, src, Options{AllBlobs: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := List(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if l.Blobs != len(reg.Blobs) {
		t.Errorf("--all-blobs archived %d blobs, storage holds %d", l.Blobs, len(reg.Blobs))
	}
}

// orderDriver records the order of Puts.
type orderDriver struct {
	drivers.Driver
	mu   sync.Mutex
	puts []string
}

func (o *orderDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	err := o.Driver.Put(ctx, p, r, size)
	if err == nil {
		o.mu.Lock()
		o.puts = append(o.puts, p)
		o.mu.Unlock()
	}
	return err
}

func TestRestoreWritesInPushOrder(t *testing.T) {
	src, _ := newRegistry(t)
	data, _, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := &orderDriver{Driver: newMem(t)}
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	last := archive.KindBlob
	for _, p := range dst.puts {
		k := archive.ParsePath(p).Kind
		if k < last {
			t.Fatalf("%s (%v) written after a %v: want blobs, layer links, revisions, tag index, tags", p, k, last)
		}
		last = k
	}
	if last != archive.KindTagCurrentLink {
		t.Errorf("last write was a %v, want a tag link", last)
	}
}

func TestCorruptArchiveWritesNoLink(t *testing.T) {
	src, _ := newRegistry(t)
	data, _, err := backupTo(t, src, Options{Compression: archive.None})
	if err != nil {
		t.Fatal(err)
	}
	// Flip a byte well inside the blob data (the catalog comes first and
	// links last; the middle of the archive is blob content).
	data[len(data)/2] ^= 0xff
	dst := &orderDriver{Driver: newMem(t)}
	_, err = Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{})
	if !errors.Is(err, archive.ErrDigestMismatch) && !errors.Is(err, archive.ErrCorrupt) {
		t.Fatalf("restore of a corrupt archive: err = %v, want an integrity error", err)
	}
	for _, p := range dst.puts {
		if archive.ParsePath(p).Kind != archive.KindBlob {
			t.Errorf("%s written from a corrupt archive", p)
		}
	}
	// Every blob that was committed is intact.
	for p, c := range files(t, dst, archive.RegistryRoot+"blobs/") {
		if sha256Digest([]byte(c)) != archive.ParsePath(p).Digest {
			t.Errorf("%s committed with the wrong content", p)
		}
	}
}

func TestTruncatedArchiveWritesNoLink(t *testing.T) {
	src, _ := newRegistry(t)
	data, _, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{len(data) / 2, len(data) - 20} {
		dst := &orderDriver{Driver: newMem(t)}
		_, err := Restore(t.Context(), bytes.NewReader(data[:cut]), dst, RestoreOptions{})
		if !errors.Is(err, archive.ErrIncomplete) && !errors.Is(err, archive.ErrCorrupt) {
			t.Fatalf("cut at %d: err = %v, want an integrity error", cut, err)
		}
		for _, p := range dst.puts {
			if archive.ParsePath(p).Kind != archive.KindBlob {
				t.Errorf("cut at %d: %s written from a truncated archive", cut, p)
			}
		}
	}
}

func TestRestoreSkipsPresentBlobs(t *testing.T) {
	src, _ := newRegistry(t)
	data, _, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := newMem(t)
	first, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Blobs != 0 || second.Skipped != first.Blobs || second.Links != 0 {
		t.Errorf("second restore wrote %d blobs and %d links, skipped %d; want 0, 0, %d",
			second.Blobs, second.Links, second.Skipped, first.Blobs)
	}
}

func TestRestoreRepositorySubset(t *testing.T) {
	src, reg := newRegistry(t)
	data, _, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := newMem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{Repositories: []string{"group/*/*"}}); err != nil {
		t.Fatal(err)
	}
	got := tagsOf(t, dst)
	for _, im := range reg.Tags {
		_, ok := got[im.Repo+":"+im.Tag]
		if want := im.Repo == "group/sub/app"; ok != want {
			t.Errorf("%s:%s restored = %v, want %v", im.Repo, im.Tag, ok, want)
		}
	}
	// Every blob the restored repository links to is there.
	for p, c := range files(t, dst, archive.RegistryRoot+"repositories/") {
		if _, err := dst.Stat(t.Context(), archive.BlobPath(c)); err != nil {
			t.Errorf("%s links to %s, which was not restored", p, c)
		}
	}
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{Repositories: []string{"nope"}}); err == nil {
		t.Error("a glob matching nothing must be an error")
	}
}

func TestRestoreCleanAndDryRun(t *testing.T) {
	src, _ := newRegistry(t)
	data, _, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := newMem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	junk := []string{
		archive.RegistryRoot + "repositories/extra/_manifests/tags/x/current/link",
		archive.BlobPath("sha256:" + strings.Repeat("ee", 32)),
	}
	for _, p := range junk {
		if err := dst.Put(t.Context(), p, strings.NewReader("junk"), 4); err != nil {
			t.Fatal(err)
		}
	}
	outside := "lost+found/keep"
	dst.Put(t.Context(), outside, strings.NewReader("x"), 1)
	before := files(t, dst, "")
	var would []string
	rep, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{Clean: true, DryRun: true,
		Change: func(a, p string) {
			if a == "remove" {
				would = append(would, p)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(files(t, dst, "")) != len(before) || rep.Removed != len(junk) || len(would) != len(junk) {
		t.Errorf("dry run: would remove %v (%d), want %v, and nothing changed", would, rep.Removed, junk)
	}
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{Clean: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range junk {
		if _, err := dst.Stat(t.Context(), p); !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("--clean left %s", p)
		}
	}
	if _, err := dst.Stat(t.Context(), outside); err != nil {
		t.Errorf("--clean touched %s outside docker/registry/v2: %v", outside, err)
	}
}

func TestMalformedLinksAreReportedAndRepaired(t *testing.T) {
	src, reg := newRegistry(t)
	var layer, tag string
	for p := range files(t, src, archive.RegistryRoot+"repositories/alpha/") {
		switch archive.ParsePath(p).Kind {
		case archive.KindLayerLink:
			layer = p
		case archive.KindTagCurrentLink:
			tag = p
		}
	}
	good := files(t, src, layer)[layer]
	src.Put(t.Context(), layer, strings.NewReader(good+"\n"), -1) // trailing newline
	src.Put(t.Context(), tag, strings.NewReader(""), 0)           // empty
	data, rep, err := backupTo(t, src, Options{})
	if !errors.Is(err, ErrDamagedSource) {
		t.Fatalf("err = %v, want ErrDamagedSource", err)
	}
	named := map[string]bool{}
	for _, p := range rep.Problems {
		named[p.Path] = true
	}
	if !named[layer] || !named[tag] {
		t.Errorf("problems %v do not name %s and %s", rep.Problems, layer, tag)
	}
	dst := newMem(t)
	if _, err := Restore(t.Context(), bytes.NewReader(data), dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	got := files(t, dst, archive.RegistryRoot)
	if got[layer] != good {
		t.Errorf("layer link restored as %q, want the repaired %q", got[layer], good)
	}
	if _, ok := got[tag]; ok {
		t.Errorf("an empty tag link must be left out, not restored")
	}
	_ = reg
}

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
		pm, err := parseManifest([]byte(c.doc))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if pm.IsIndex != c.index || len(pm.Refs) != c.refs {
			t.Errorf("%s: index=%v refs=%v", c.name, pm.IsIndex, pm.Refs)
		}
	}
	for _, bad := range []string{`{}`, `not json`, `{"schemaVersion":2}`} {
		if _, err := parseManifest([]byte(bad)); err == nil {
			t.Errorf("parseManifest(%s) accepted", bad)
		}
	}
}

func TestGitLabDatabaseModeIsNoticed(t *testing.T) {
	src, _ := newRegistry(t)
	src.Put(t.Context(), gitlabDatabaseLock, strings.NewReader("x"), 1)
	_, rep, err := backupTo(t, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if p.Path == gitlabDatabaseLock && p.Severity == Notice {
			return
		}
	}
	t.Errorf("no notice about GitLab's metadata database in %v", rep.Problems)
}
