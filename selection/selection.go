// Package selection is which repositories of an archive's catalog (or a
// snapshot's) a restore or a copy works on (--repository globs), and
// which blobs those repositories need.
//
// It is not for reading or writing anything: it works on a catalog.
package selection

import (
	"fmt"
	"path"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// Repositories matches the globs against the catalog's repositories.
func Repositories(cat *archive.Catalog, globs []string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, g := range globs {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("--repository %q: %w", g, err)
		}
	}
	for _, r := range cat.Repositories {
		if len(globs) == 0 {
			sel[r.Name] = true
		}
		for _, g := range globs {
			if ok, _ := path.Match(g, r.Name); ok {
				sel[r.Name] = true
			}
		}
	}
	if len(globs) > 0 && len(sel) == 0 {
		var names []string
		for _, r := range cat.Repositories {
			names = append(names, r.Name)
		}
		return nil, fmt.Errorf("no repository in the archive matches %s (it holds: %s)",
			strings.Join(globs, ", "), strings.Join(names, ", "))
	}
	return sel, nil
}

// Blobs is every blob when nothing was filtered, else the blobs the
// selected repositories link to and what their manifests reference.
func Blobs(cat *archive.Catalog, sel map[string]bool, filtered bool) map[string]bool {
	need := map[string]bool{}
	if !filtered {
		for _, b := range cat.Blobs {
			need[b.Digest] = true
		}
		return need
	}
	refs := map[string][]string{}
	for _, m := range cat.Manifests {
		refs[m.Digest] = m.References
	}
	var add func(string)
	add = func(dg string) {
		if need[dg] {
			return
		}
		need[dg] = true
		for _, r := range refs[dg] {
			add(r)
		}
	}
	for _, r := range cat.Repositories {
		if !sel[r.Name] {
			continue
		}
		for _, dg := range r.Layers {
			add(dg)
		}
		for _, dg := range r.Manifests {
			add(dg)
		}
		for _, t := range r.Tags {
			add(t.Current)
			for _, dg := range t.Index {
				add(dg)
			}
		}
	}
	// Only blobs the archive plans to hold.
	inCat := map[string]bool{}
	for _, b := range cat.Blobs {
		inCat[b.Digest] = true
	}
	for dg := range need {
		if !inCat[dg] {
			delete(need, dg)
		}
	}
	return need
}
