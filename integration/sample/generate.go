package sample

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// Options shape the generated tree. The zero value gives a small (~3 MiB)
// tree without the small-files extras.
type Options struct {
	// Seed makes the output deterministic: the same Options write the same
	// bytes to the same paths.
	Seed int64
	// LayerBytes is the total size of the distinct layer blobs of the fixed
	// repositories (0 means DefaultLayerBytes; at least 160 KiB). Configs,
	// manifests, the garbage blob, the upload and the SmallFiles extras come
	// on top.
	LayerBytes int64
	// SmallFiles adds that many extra tags, each a tiny image, spread over
	// repositories small/r0000, small/r0001, ... About 8 files each.
	SmallFiles int
}

// Image is one tag and the manifest it points to.
type Image struct {
	Repo, Tag, Digest, MediaType string
}

// Registry describes what Generate wrote.
type Registry struct {
	Tags         []Image          // every tag and the digest it points to now, sorted by Repo, Tag
	Repositories []string         // sorted
	Blobs        map[string]int64 // every blob digest written -> size (including garbage)
	Garbage      []string         // blob digests no link file names (GC garbage), sorted
	Deleted      []string         // manifest digests deleted (revisions link removed, blob kept), sorted
	Uploads      []string         // files of uploads in progress (never back up), sorted
}

// Generate writes a registry storage tree through d (see the package
// comment) and describes it. It writes in the registry's push order, so
// every link names a blob that already exists. d should be empty: Generate
// overwrites its own paths and leaves anything else alone, and the Registry
// it returns describes only what it wrote.
func Generate(ctx context.Context, d drivers.Driver, opts Options) (*Registry, error) {
	g := &generator{
		d:     d,
		opts:  opts,
		rng:   rand.New(rand.NewPCG(uint64(opts.Seed), 0x7265676261636b75)),
		blobs: map[string]int64{},
		links: map[string]string{},
		tags:  map[[2]string]Image{},
		repos: map[string]bool{},
	}
	if g.opts.LayerBytes <= 0 {
		g.opts.LayerBytes = DefaultLayerBytes
	}
	if err := g.run(ctx); err != nil {
		return nil, err
	}
	return g.registry(), nil
}

// generator holds the state of one Generate call. rng is used only by the
// goroutine running Generate; the maps are shared with workers under mu.
type generator struct {
	d    drivers.Driver
	opts Options
	rng  *rand.Rand

	mu      sync.Mutex
	blobs   map[string]int64    // digest -> size
	links   map[string]string   // live link path -> digest
	tags    map[[2]string]Image // {repo, tag} -> image
	repos   map[string]bool
	deleted []string
	uploads []string
}

func (g *generator) run(ctx context.Context) error {
	pool, err := g.storePool(ctx)
	if err != nil {
		return err
	}
	if err := g.pushFixed(ctx, pool); err != nil {
		return err
	}
	if err := g.writeGarbage(ctx); err != nil {
		return err
	}
	if err := g.writeUpload(ctx, "alpha"); err != nil {
		return err
	}
	return g.pushSmallFiles(ctx)
}

// claimBlob records a blob and reports whether it still has to be written.
func (g *generator) claimBlob(digest string, size int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.blobs[digest]; ok {
		return false
	}
	g.blobs[digest] = size
	return true
}

// putBlob stores b as a blob (once) and returns its digest.
func (g *generator) putBlob(ctx context.Context, b []byte) (string, error) {
	dg := digestOf(b)
	if !g.claimBlob(dg, int64(len(b))) {
		return dg, nil
	}
	if err := g.d.Put(ctx, BlobPath(dg), bytes.NewReader(b), int64(len(b))); err != nil {
		return "", fmt.Errorf("sample: write blob %s: %w", dg, err)
	}
	return dg, nil
}

// putLink writes a link file: exactly "sha256:<64 hex>", no newline.
func (g *generator) putLink(ctx context.Context, path, digest string) error {
	if err := g.d.Put(ctx, path, strings.NewReader(digest), int64(len(digest))); err != nil {
		return fmt.Errorf("sample: write link: %w", err)
	}
	g.mu.Lock()
	g.links[path] = digest
	if i := strings.Index(path, "/_"); i >= 0 {
		g.repos[strings.TrimPrefix(path[:i], Root+"/repositories/")] = true
	}
	g.mu.Unlock()
	return nil
}

// deleteLink removes a link file the generator wrote.
func (g *generator) deleteLink(ctx context.Context, path string) error {
	if err := g.d.Delete(ctx, path); err != nil && !errors.Is(err, drivers.ErrNotFound) {
		return fmt.Errorf("sample: delete link: %w", err)
	}
	g.mu.Lock()
	delete(g.links, path)
	g.mu.Unlock()
	return nil
}

// registry builds the description of everything written.
func (g *generator) registry() *Registry {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := &Registry{Blobs: g.blobs, Deleted: g.deleted, Uploads: g.uploads}
	for _, im := range g.tags {
		r.Tags = append(r.Tags, im)
	}
	sort.Slice(r.Tags, func(i, j int) bool {
		a, b := r.Tags[i], r.Tags[j]
		return a.Repo < b.Repo || a.Repo == b.Repo && a.Tag < b.Tag
	})
	for repo := range g.repos {
		r.Repositories = append(r.Repositories, repo)
	}
	named := map[string]bool{}
	for _, dg := range g.links {
		named[dg] = true
	}
	for dg := range g.blobs {
		if !named[dg] {
			r.Garbage = append(r.Garbage, dg)
		}
	}
	sort.Strings(r.Repositories)
	sort.Strings(r.Garbage)
	sort.Strings(r.Deleted)
	sort.Strings(r.Uploads)
	return r
}
