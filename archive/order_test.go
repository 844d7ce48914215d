package archive

import (
	"math/rand"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The restore order is this list, whatever the values of the kinds.
func TestRestoreOrder(t *testing.T) {
	want := []Kind{KindBlob, KindLayerLink, KindRevisionLink, KindTagIndexLink, KindTagCurrentLink}
	if got := RestoreOrder(); !reflect.DeepEqual(got, want) {
		t.Fatalf("RestoreOrder() = %v, want %v", got, want)
	}
	RestoreOrder()[0] = KindTagCurrentLink // the caller's copy
	if got := RestoreOrder(); !reflect.DeepEqual(got, want) {
		t.Fatalf("RestoreOrder() changed by a caller: %v", got)
	}
	for i, k := range want {
		if k.RestoreRank() != i {
			t.Errorf("%v.RestoreRank() = %d, want %d", k, k.RestoreRank(), i)
		}
	}
	if r := KindUnknown.RestoreRank(); r != -1 {
		t.Errorf("KindUnknown.RestoreRank() = %d, want -1", r)
	}
	// Paths of every kind, shuffled, sort into that order by rank.
	paths := []string{
		BlobPath("sha256:" + strings.Repeat("a", 64)),
		LinkPath(KindLayerLink, "app", "", "sha256:"+strings.Repeat("b", 64)),
		LinkPath(KindRevisionLink, "app", "", "sha256:"+strings.Repeat("c", 64)),
		LinkPath(KindTagIndexLink, "app", "v1", "sha256:"+strings.Repeat("c", 64)),
		LinkPath(KindTagCurrentLink, "app", "v1", ""),
	}
	rand.New(rand.NewSource(1)).Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	sort.Slice(paths, func(i, j int) bool {
		return ParsePath(paths[i]).Kind.RestoreRank() < ParsePath(paths[j]).Kind.RestoreRank()
	})
	var got []Kind
	for _, p := range paths {
		got = append(got, ParsePath(p).Kind)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths sorted by RestoreRank: %v, want %v", got, want)
	}
}

// IsLink is true for the link kinds of the restore order, and only those.
func TestIsLink(t *testing.T) {
	for _, k := range []Kind{KindUnknown, KindBlob, KindLayerLink, KindRevisionLink, KindTagIndexLink, KindTagCurrentLink} {
		want := k.RestoreRank() > KindBlob.RestoreRank()
		if k.IsLink() != want {
			t.Errorf("%v.IsLink() = %v, want %v", k, k.IsLink(), want)
		}
	}
}
