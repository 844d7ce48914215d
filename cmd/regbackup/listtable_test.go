package main

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/restore"
)

// list's table, written as it goes, is what the tabwriter that held it
// whole wrote, byte for byte: wide and narrow names, names of many bytes
// a rune, repositories without tags.
func TestImageTableIsTabwriters(t *testing.T) {
	for _, name := range []string{"plain", "tab in a tag"} {
		cat := &archive.Catalog{Source: "file:///reg"}
		for r := range 5 {
			repo := archive.Repository{Name: fmt.Sprintf("team/r%s%d", strings.Repeat("é", r*3), r)}
			for tg := range r {
				tag := fmt.Sprintf("v%d%s", tg, strings.Repeat("x", tg*7))
				if name != "plain" && r == 2 {
					tag += "\tbad"
				}
				repo.Tags = append(repo.Tags, archive.Tag{Name: tag, Current: fmt.Sprintf("sha256:%064x", r*10+tg)})
			}
			if r == 0 {
				repo.Manifests = []string{"sha256:" + strings.Repeat("a", 64)}
			}
			cat.Repositories = append(cat.Repositories, repo)
		}
		cat.Repositories = append(cat.Repositories, archive.Repository{Name: "z/a-much-longer-name-without-tags-than-any-other"})
		l := restore.ListCatalog(cat)
		var got, want bytes.Buffer
		if err := writeImageTable(&got, l); err != nil {
			t.Fatal(err)
		}
		if err := writeImageTabwriter(&want, l); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: writeImageTable wrote\n%s\nthe tabwriter\n%s", name, got.Bytes(), want.Bytes())
		}
		if n := strings.Count(got.String(), "\n"); n != 1+10+2 {
			t.Errorf("%s: %d lines, want %d", name, n, 13)
		}
	}
}

// heapWatcher is a writer that discards what it is given, noting the
// most the heap held live at each write.
type heapWatcher struct {
	peak  uint64
	bytes int
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func (w *heapWatcher) Write(p []byte) (int, error) {
	w.peak = max(w.peak, liveHeap())
	w.bytes += len(p)
	return len(p), nil
}

// list's table of 40,000 images (4 MB) is written holding under 1 MB
// more than the listing: the tabwriter held all of it, several times.
func TestImageTableHoldsNoOutput(t *testing.T) {
	cat := &archive.Catalog{Source: "file:///reg"}
	for i := range 40000 {
		if i%8 == 0 {
			cat.Repositories = append(cat.Repositories, archive.Repository{Name: fmt.Sprintf("synth/r%07d", i/8)})
		}
		r := &cat.Repositories[len(cat.Repositories)-1]
		r.Tags = append(r.Tags, archive.Tag{Name: fmt.Sprintf("t%05d", i%8), Current: fmt.Sprintf("sha256:%064x", i)})
	}
	l := restore.ListCatalog(cat)
	cat = nil
	held := liveHeap()
	w := &heapWatcher{}
	if err := writeImageTable(w, l); err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(l)
	t.Logf("%d KB of table written, the heap at most %d KB over the listing's", w.bytes>>10, (int64(w.peak)-int64(held))>>10)
	if over := int64(w.peak) - int64(held); over > 1<<20 {
		t.Errorf("writing %d KB of table held %d KB", w.bytes>>10, over>>10)
	}
}
