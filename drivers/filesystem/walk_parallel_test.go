package filesystem

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/regbackup/regbackup/drivers"
)

// TestMain removes the tree bigTree writes once for all tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if big.root != "" {
		os.RemoveAll(big.root)
	}
	os.Exit(code)
}

var big struct {
	once    sync.Once
	root    string
	files   []string
	content map[string]string
	err     error
}

// bigTree returns a tree written once (folders are slow to create on some
// disks) with more than walkSplit folders on one level and files beside
// folders whose names sort around "/" ("x-", "x.", "x0"): its root, every
// file's slash path in walk order and their contents. Tests must not
// change it.
func bigTree(t *testing.T) (root string, want []string, content map[string]string) {
	t.Helper()
	big.once.Do(func() { big.root, big.files, big.content, big.err = writeBigTree() })
	if big.err != nil {
		t.Fatal(big.err)
	}
	return big.root, big.files, big.content
}

func writeBigTree() (root string, files []string, content map[string]string, err error) {
	if root, err = os.MkdirTemp("", "walktest-"); err != nil {
		return "", nil, nil, err
	}
	for r := range 24 {
		repo := fmt.Sprintf("ns%d/repo%02d", r%3, r)
		files = append(files, repo+"-readme", repo+".x", repo+"0")
		for tag := range 12 {
			files = append(files,
				fmt.Sprintf("%s/_manifests/tags/t%d/current/link", repo, tag),
				fmt.Sprintf("%s/_manifests/tags/t%d/index/sha256/%04x/link", repo, tag, tag*7),
				fmt.Sprintf("%s/_manifests/tags/t%d.x", repo, tag))
		}
		files = append(files, repo+"/_layers/sha256/aa/link", repo+"/_uploads/u1/data")
	}
	files = append(files, "top", "ns1-x")
	content = map[string]string{}
	for i, p := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return root, nil, nil, err
		}
		data := strings.Repeat(p, i%3) // some empty
		if strings.HasSuffix(p, "/data") {
			data = strings.Repeat("x", 3000)
		}
		content[p] = data
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			return root, nil, nil, err
		}
	}
	slices.Sort(files) // lexical order of full paths is the walk order
	return root, files, content, nil
}

// under returns the paths of all below prefix ("" for all).
func under(all []string, prefix string) []string {
	var out []string
	for _, p := range all {
		if prefix == "" || strings.HasPrefix(p, prefix+"/") {
			out = append(out, p)
		}
	}
	return out
}

func TestParallelWalkIsLexicalWithSizes(t *testing.T) {
	root, want, content := bigTree(t)
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "ns1", "ns1/repo04/_manifests"} {
		var got []string
		err := d.Walk(t.Context(), prefix, func(fi drivers.FileInfo) error {
			got = append(got, fi.Path)
			if fi.Size != int64(len(content[fi.Path])) {
				t.Errorf("Walk(%q) reports %s with size %d, want %d", prefix, fi.Path, fi.Size, len(content[fi.Path]))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if w := under(want, prefix); !slices.Equal(got, w) {
			t.Fatalf("Walk(%q):\n got  %q\n want %q", prefix, got, w)
		}
	}
}

func TestWalkReadGivesSmallFilesContent(t *testing.T) {
	root, want, content := bigTree(t)
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 1024
	for _, prefix := range []string{"", "ns2/repo02", "ns2/repo02/_uploads/u1/data", "ns2/repo02/_layers/sha256/aa/link"} {
		var got []string
		err := d.WalkRead(t.Context(), prefix, limit, func(fi drivers.FileInfo, data []byte) error {
			got = append(got, fi.Path)
			c := content[fi.Path]
			switch {
			case fi.Size != int64(len(c)):
				t.Errorf("WalkRead(%q) reports %s with size %d, want %d", prefix, fi.Path, fi.Size, len(c))
			case len(c) > limit && data != nil:
				t.Errorf("WalkRead(%q) read %s (%d bytes, over the limit)", prefix, fi.Path, len(c))
			case len(c) <= limit && (data == nil || string(data) != c):
				t.Errorf("WalkRead(%q) gives %s as %q, want %q", prefix, fi.Path, data, c)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		w := under(want, prefix)
		if strings.HasSuffix(prefix, "/data") || strings.HasSuffix(prefix, "/link") {
			w = []string{prefix}
		}
		if !slices.Equal(got, w) {
			t.Fatalf("WalkRead(%q):\n got  %q\n want %q", prefix, got, w)
		}
	}
}

func TestWalkReadSkipsSymlinksAndTempFiles(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	for p, c := range map[string]string{"a/link": "ok", "a/link.1234abcd-12ab-34cd-56ef-1234567890ab.tmp": "tmp", "../outside": "secret"} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "outside"), filepath.Join(root, "a", "sym")); err != nil {
		t.Fatal(err)
	}
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = d.WalkRead(t.Context(), "", 100, func(fi drivers.FileInfo, data []byte) error {
		got = append(got, fi.Path+"="+string(data))
		return nil
	})
	if err != nil || !slices.Equal(got, []string{"a/link=ok"}) {
		t.Fatalf("WalkRead = %q, %v; want [a/link=ok]", got, err)
	}
}

func TestParallelWalkStopsAtFnError(t *testing.T) {
	root, want, _ := bigTree(t)
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop here")
	for _, n := range []int{1, 7, len(want) / 2, len(want) - 1} {
		var got []string
		err := d.Walk(t.Context(), "", func(fi drivers.FileInfo) error {
			got = append(got, fi.Path)
			if len(got) == n {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || !slices.Equal(got, want[:n]) {
			t.Fatalf("Walk stopped at call %d = %v after %q, want %v after %q", n, err, got, stop, want[:n])
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err = d.Walk(ctx, "", func(drivers.FileInfo) error {
		if calls++; calls == 100 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 100 {
		t.Fatalf("Walk cancelled at call 100 = %v after %d calls, want context.Canceled after 100", err, calls)
	}
}

// TestParallelWalkFolderErrorComesInOrder checks that a folder that could
// not be read fails the walk after the files before it, as a serial walk
// would, and that no file after it is given.
func TestParallelWalkFolderErrorComesInOrder(t *testing.T) {
	root, _, _ := bigTree(t)
	bad := errors.New("unreadable")
	entries := []walkEntry{
		{file: drivers.FileInfo{Path: "a"}},
		{dir: &subtree{name: "ns0", rel: "ns0", full: filepath.Join(root, "ns0")}},
		{dir: &subtree{name: "ns1", rel: "ns1", full: filepath.Join(root, "ns1"), err: bad}},
		{file: drivers.FileInfo{Path: "z"}},
	}
	var got []string
	err := walkSubtrees(t.Context(), root, entries, -1, func(fi drivers.FileInfo, _ []byte) error {
		got = append(got, fi.Path)
		return nil
	})
	if !errors.Is(err, bad) {
		t.Fatalf("walk = %v, want %v", err, bad)
	}
	if len(got) < 2 || got[0] != "a" {
		t.Fatalf("walk gave %d files starting %q: want a, then ns0's files", len(got), got[:min(len(got), 2)])
	}
	for _, p := range got[1:] {
		if !strings.HasPrefix(p, "ns0/") {
			t.Fatalf("walk gave %q after a: want only ns0's files, nothing after the failed folder", p)
		}
	}
}
