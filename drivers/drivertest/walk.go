package drivertest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

const repos = "docker/registry/v2/repositories/"

// walkLayout returns a registry-like set of files whose names probe lexical
// order: "-" < "." < "/" in bytes, so "v1-rc/..." < "v1.0/..." < "v1/...".
func walkLayout() map[string][]byte {
	files := map[string][]byte{}
	blob := randomBytes(9, 1234)
	files[blobPath(blob)] = blob
	for i, p := range []string{
		"a/_layers/sha256/00aa/link",
		"a/_layers/sha256/00ab/link",
		"a/_manifests/revisions/sha256/11bb/link",
		"a/_manifests/tags/latest/current/link",
		"a/_manifests/tags/v1/current/link",
		"a/_manifests/tags/v1.0/current/link",
		"a/_manifests/tags/v1-rc/current/link",
		"a/_manifests/tags/v1/index/sha256/11bb/link",
		"a/sub/app/_layers/sha256/22cc/link",
		"a.b/_layers/sha256/33dd/link",
		"a-b/_layers/sha256/44ee/link",
		"ab/_layers/sha256/55ff/link",
	} {
		files[repos+p] = randomBytes(uint64(i), 10+i*7)
	}
	return files
}

// testWalkNested checks that Walk returns exactly the files of a prefix, in
// lexical order, with sizes, and none of a sibling prefix.
func testWalkNested(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	files := walkLayout()
	for p, data := range files {
		put(t, d, p, data)
	}
	for _, prefix := range []string{
		"", "docker", "docker/", repos + "a", repos + "a/", repos + "a/_manifests/tags/v1",
		repos + "a.b", repos + "ab", repos + "a/sub/app/_layers/sha256/22cc",
	} {
		dir := strings.TrimSuffix(prefix, "/")
		var want []string
		for p := range files {
			if dir == "" || strings.HasPrefix(p, dir+"/") {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		got := walkAll(t, d, prefix)
		var paths []string
		for _, fi := range got {
			paths = append(paths, fi.Path)
			if data, ok := files[fi.Path]; ok && fi.Size != int64(len(data)) {
				t.Errorf("%s: Walk(%q) reports %q with size %d, want %d", d, prefix, fi.Path, fi.Size, len(data))
			} else if ok {
				checkMD5(t, d, "Walk", fi, data)
			}
		}
		if !slices.Equal(paths, want) {
			t.Errorf("%s: Walk(%q):\n got  %q\n want %q", d, prefix, paths, want)
		}
	}
}

// testWalkMissingPrefix checks that a missing prefix is not an error.
func testWalkMissingPrefix(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	for _, prefix := range []string{"", "docker/registry/v2", "x"} {
		calls := 0
		if err := d.Walk(t.Context(), prefix, func(drivers.FileInfo) error { calls++; return nil }); err != nil || calls != 0 {
			t.Fatalf("%s: Walk(%q) on an empty driver = %v after %d calls, want nil after 0", d, prefix, err, calls)
		}
	}
	put(t, d, repos+"ab/_layers/sha256/00/link", link(1))
	for _, prefix := range []string{repos + "a", repos + "abc", repos + "ab/_manifests", "docker/registry/v2/blobs"} {
		if got := walkPaths(t, d, prefix); len(got) != 0 {
			t.Fatalf("%s: Walk(%q) = %q, want nothing", d, prefix, got)
		}
	}
}

// testWalkStopsOnError checks that fn's error stops Walk and is returned.
func testWalkStopsOnError(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	for _, p := range []string{"a/1", "a/2", "b/3"} {
		put(t, d, p, []byte(p))
	}
	stop := errors.New("stop here")
	calls := 0
	err := d.Walk(t.Context(), "", func(drivers.FileInfo) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("%s: Walk with fn failing at once = %v after %d calls, want %v after 1", d, err, calls, stop)
	}
}

// testWalkCancelled checks that Walk stops with context.Canceled when ctx is
// cancelled before or during the walk.
func testWalkCancelled(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	for _, p := range []string{"a/1", "a/2", "b/3", "b/c/4"} {
		put(t, d, p, []byte(p))
	}
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := d.Walk(ctx, "", func(drivers.FileInfo) error { calls++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("%s: Walk cancelled by fn = %v after %d calls, want context.Canceled after 1", d, err, calls)
	}
	calls = 0
	err = d.Walk(ctx, "", func(drivers.FileInfo) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("%s: Walk with a cancelled ctx = %v after %d calls, want context.Canceled after 0", d, err, calls)
	}
}
