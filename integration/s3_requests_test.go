package integration

// What a snapshot of a registry on S3 asks the store for, counted by a
// proxy in front of versitygw: the listing's ETags vouch for the link
// files, so a backup reads none of them but the few whose ETag matches no
// digest it expects there.

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// TestS3SnapshotRequestCounts: a generated registry of some hundred tags,
// copied onto versitygw (so every object has the ETag S3 gives it, its
// MD5), and one tag whose index entry is gone. A full backup and then an
// unchanged incremental, through a counting proxy, GET no link file but
// that tag's current link, the incremental no blob either (its manifests
// come from the full backup's sidecar); and the archive's catalog is the one a backup
// of the same tree in a folder (which reads every link) writes.
func TestS3SnapshotRequestCounts(t *testing.T) {
	gw := servers.StartVersityGW(t)
	bucket := gw.NewBucket(t)
	dir := filepath.Join(t.TempDir(), "reg")
	reg := genTree(t, dir, sample.Options{Seed: 3, SmallFiles: 300})
	odd := reg.Tags[len(reg.Tags)-1] // its index entry goes: its ETag then vouches for nothing
	oddIndex := archive.LinkPath(archive.KindTagIndexLink, odd.Repo, odd.Tag, odd.Digest)
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(oddIndex))); err != nil {
		t.Fatal(err)
	}
	regbackupS3(t, gw, 0, "copy", "--from", dir, "--to", gw.Location(bucket, "reg"))
	oddTag := "/" + bucket + "/reg/" + archive.LinkPath(archive.KindTagCurrentLink, odd.Repo, odd.Tag, "")

	p := servers.StartFaultProxy(t, gw.Endpoint, servers.FaultOptions{}) // counts only
	loc := "s3://" + bucket + "/reg?endpoint=" + p.URL + "&path-style=true&region=" + gw.Region
	out := t.TempDir()
	full, incr, ref := filepath.Join(out, "full.tar.zst"), filepath.Join(out, "incr.tar.zst"), filepath.Join(out, "ref.tar.zst")
	runs := []struct {
		name string
		args []string
	}{
		{"full", []string{"backup", "--from", loc, "-o", full}},
		{"unchanged incremental", []string{"backup", "--from", loc, "-o", incr, "--incremental-from", full}},
	}
	for _, r := range runs {
		p.Reset()
		regbackupS3(t, gw, 0, r.args...)
		c := p.Counts()
		reqs := p.Requests()
		t.Logf("%s backup of %d tags: %d requests (%.2f a tag): %v", r.name, len(reg.Tags), len(reqs),
			float64(len(reqs))/float64(len(reg.Tags)), c)
		var linkGets, dataGets []string
		for _, q := range reqs {
			switch {
			case q.Method == "GET" && strings.HasSuffix(q.Path, "/link"):
				linkGets = append(linkGets, q.Path)
			case q.Method == "GET" && strings.HasSuffix(q.Path, "/data"):
				dataGets = append(dataGets, q.Path)
			}
		}
		sort.Strings(linkGets)
		if r.name == "unchanged incremental" && len(dataGets) > 0 {
			t.Errorf("unchanged incremental: %d blobs read (%v), want none: the parent's sidecar lists every manifest: %.300q",
				len(dataGets), c, dataGets)
		}
		if want := []string{oddTag}; !reflect.DeepEqual(linkGets, want) {
			t.Errorf("%s backup: %d link files read (%v), want only the tag without an index entry %q: %q",
				r.name, len(linkGets), c, oddTag, linkGets)
		}
	}
	mustRegbackup(t, 0, "backup", "--from", dir, "-o", ref)
	want := catalogLists(t, ref)
	for _, a := range []string{full, incr} {
		got := catalogLists(t, a)
		for _, part := range []struct {
			name      string
			got, want any
		}{{"repositories", got.Repositories, want.Repositories}, {"manifests", got.Manifests, want.Manifests},
			{"blobs", got.Blobs, want.Blobs}, {"head", *catalogHead(got), *catalogHead(want)}} {
			if !reflect.DeepEqual(part.got, part.want) {
				t.Errorf("%s: the catalog's %s differ from those of a backup of the folder (every link read):\n got  %.600v\n want %.600v",
					filepath.Base(a), part.name, part.got, part.want)
			}
		}
	}
	if tags, _ := listArchive(t, full); len(tags) != len(reg.Tags) {
		t.Errorf("full backup lists %d tags, the registry has %d", len(tags), len(reg.Tags))
	}
	// The bucket was only read.
	if n := p.Count("PUT", nil) + p.Count("DELETE", nil) + p.Count("POST", nil); n > 0 {
		t.Errorf("%d writes to the source bucket", n)
	}
}

// catalogLists is the archive's catalog with what differs from one backup
// of the same registry to the next (time, source, format, parents, which
// archive holds a blob) taken out.
func catalogLists(t *testing.T, path string) *archive.Catalog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := archive.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	c := *r.Catalog()
	c.Created, c.Source, c.Format, c.Parents = time.Time{}, "", "", nil
	for i := range c.Blobs {
		c.Blobs[i].Archive = ""
	}
	return &c
}

// catalogHead is c without its lists.
func catalogHead(c *archive.Catalog) *archive.Catalog {
	h := *c
	h.Repositories, h.Manifests, h.Blobs = nil, nil, nil
	return &h
}
