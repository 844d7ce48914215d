package regtest

import (
	"context"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
)

// TestSynthIsARegistry: every file Synth lists reads back with the size
// listed, in lexical order; every blob hashes to its digest, every link
// names a blob it serves, and each tag has its six files.
func TestSynthIsARegistry(t *testing.T) {
	s, err := NewSynth(3, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	var last string
	kinds := map[archive.Kind]int{}
	err = s.Walk(ctx, "", func(fi drivers.FileInfo) error {
		if fi.Path <= last {
			t.Errorf("walk order: %s after %s", fi.Path, last)
		}
		last = fi.Path
		data, err := blobio.ReadSmall(ctx, s, fi.Path, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != fi.Size {
			t.Errorf("%s: listed %d bytes, read %d", fi.Path, fi.Size, len(data))
		}
		p := archive.ParsePath(fi.Path)
		kinds[p.Kind]++
		switch {
		case p.Kind == archive.KindBlob:
			if got := blobio.SHA256Digest(data); got != p.Digest {
				t.Errorf("%s hashes to %s", fi.Path, got)
			}
		case p.Kind.IsLink():
			if _, err := s.Stat(ctx, archive.BlobPath(strings.TrimSpace(string(data)))); err != nil {
				t.Errorf("%s names %s: %v", fi.Path, data, err)
			}
		default:
			t.Errorf("%s: not a blob or a link", fi.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[archive.Kind]int{archive.KindBlob: 36, archive.KindLayerLink: 24, archive.KindRevisionLink: 12,
		archive.KindTagCurrentLink: 12, archive.KindTagIndexLink: 12}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d files of kind %v, want %d", kinds[k], k, n)
		}
	}
	if _, err := s.Stat(ctx, archive.BlobPath("sha256:"+strings.Repeat("0", 64))); err == nil {
		t.Error("Stat of a blob it does not have: no error")
	}
}
