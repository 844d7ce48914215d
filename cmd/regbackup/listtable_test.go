package main

import (
	"bytes"
	"fmt"
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
