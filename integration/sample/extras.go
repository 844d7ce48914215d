package sample

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// writeGarbage stores one small blob that no link names, as a push whose
// manifest never came, or a GC that has not run yet, leaves behind.
func (g *generator) writeGarbage(ctx context.Context) error {
	return newLayer(g.opts.Seed, "garbage", 4096+g.rng.Int64N(4096)).store(ctx, g)
}

// writeUpload leaves an upload in progress in repo: _uploads/<uuid>/data,
// startedat and the hash state at the end of data, as the registry writes
// them between two PATCH requests.
func (g *generator) writeUpload(ctx context.Context, repo string) error {
	var u [16]byte
	for i := range u {
		u[i] = byte(g.rng.Uint32())
	}
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80 // version 4, RFC 4122 variant
	uuid := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	dir := UploadPath(repo, uuid)

	var full bytes.Buffer // the blob being pushed; the upload has its first part
	if err := newLayer(g.opts.Seed, "upload", 64<<10).writeTo(ctx, &full, nil); err != nil {
		return err
	}
	data := full.Bytes()[:10000+g.rng.IntN(20000)]
	h := sha256.New()
	h.Write(data)
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return fmt.Errorf("sample: upload hash state: %w", err)
	}
	files := []struct {
		path string
		b    []byte
	}{
		{dir + "/data", data},
		{dir + "/startedat", []byte(epoch.Add(1000 * time.Hour).Format(time.RFC3339))},
		{dir + "/hashstates/sha256/" + strconv.Itoa(len(data)), state},
	}
	for _, f := range files {
		if err := g.d.Put(ctx, f.path, bytes.NewReader(f.b), int64(len(f.b))); err != nil {
			return fmt.Errorf("sample: write upload: %w", err)
		}
		g.mu.Lock()
		g.uploads = append(g.uploads, f.path)
		g.mu.Unlock()
	}
	return nil
}

// smallTagsPerRepo is how many SmallFiles tags share one repository.
const smallTagsPerRepo = 8

// pushSmallFiles pushes Options.SmallFiles tiny images, one tag each, over
// repositories small/r0000, small/r0001, ..., a repository per worker at a
// time. Each image has a shared base layer and its own layer, each holding
// 1-2 KiB of random data (2.5-3.5 KiB blobs).
func (g *generator) pushSmallFiles(ctx context.Context) error {
	n := g.opts.SmallFiles
	if n <= 0 {
		return nil
	}
	base := newLayer(g.opts.Seed, "small/base", minGzipLayer+1024)
	if err := base.store(ctx, g); err != nil {
		return err
	}
	repos := (n + smallTagsPerRepo - 1) / smallTagsPerRepo
	return forEach(ctx, repos, func(ctx context.Context, r int) error {
		repo := fmt.Sprintf("small/r%04d", r)
		for i := r * smallTagsPerRepo; i < min(n, (r+1)*smallTagsPerRepo); i++ {
			rng := rand.New(rand.NewPCG(uint64(g.opts.Seed), uint64(i)))
			l := newLayer(g.opts.Seed, fmt.Sprintf("small/%d", i), minGzipLayer+1024+rng.Int64N(1025))
			if err := l.store(ctx, g); err != nil {
				return err
			}
			s := &imageSpec{
				repo:    repo,
				name:    fmt.Sprintf("t%d", i),
				oci:     i%2 == 1,
				created: epoch.Add(time.Duration(i) * time.Minute),
				layers:  []*layer{base, l},
			}
			desc, err := g.pushImage(ctx, s)
			if err != nil {
				return err
			}
			if err := g.tag(ctx, repo, s.name, desc); err != nil {
				return err
			}
		}
		return nil
	})
}
