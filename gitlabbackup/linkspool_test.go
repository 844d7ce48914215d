package gitlabbackup

import (
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/regbackup/regbackup/archive"
)

func TestLinkSpoolOrderAndSpill(t *testing.T) {
	dir := t.TempDir()
	s := NewLinkSpool(dir, 3)
	kinds := []archive.Kind{archive.KindTagCurrentLink, archive.KindLayerLink, archive.KindRevisionLink, archive.KindTagIndexLink}
	var want []string
	for i := range 10 {
		k := kinds[i%4]
		if err := s.Add(Link{Name: fmt.Sprintf("%d-%d", k, i), Kind: k, Digest: "sha256:x"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range pushOrder {
		for i := range 10 {
			if kinds[i%4] == k {
				want = append(want, fmt.Sprintf("%d-%d", k, i))
			}
		}
	}
	if !s.Spilled() {
		t.Fatal("10 links over a limit of 3 were not spilled")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spilled links are in named files a SIGKILL would leave behind: %v", left)
	}
	var got []string
	err := s.Each(2, func(links []Link) error {
		if len(links) > 2 {
			t.Errorf("batch of %d", len(links))
		}
		for _, l := range links {
			if l.Kind != links[0].Kind {
				t.Errorf("batch mixes kinds")
			}
			got = append(got, l.Name)
		}
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %v %v, want %v", got, err, want)
	}
	s.Close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}
