package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// hashBlobs reads every blob the snapshot has not hashed yet, in
// parallel, and reports those whose content does not match their digest.
func (s *Snapshot) hashBlobs(ctx context.Context, d drivers.Driver, concurrency int, prog *Progress, rep *CheckReport) error {
	reported := map[string]bool{}
	for _, p := range s.Problems() {
		if p.Severity == Damage && p.Digest != "" && p.Path == archive.BlobPath(p.Digest) {
			reported[p.Digest] = true // a corrupt manifest, already hashed
		}
	}
	var todo []archive.Blob
	var total int64
	for dg, size := range s.Present {
		if s.Manifests[dg] == nil && !reported[dg] {
			todo = append(todo, archive.Blob{Digest: dg, Size: size})
			total += size
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].Digest < todo[j].Digest })
	prog.phase("hash", fmt.Sprintf("%d blobs, %d bytes", len(todo), total))
	prog.plan(len(todo), total)
	users := sync.OnceValue(s.linkUsers) // blob -> repositories linking it, built on first need
	err := forEach(ctx, concurrency, todo, func(ctx context.Context, b archive.Blob) error {
		got, n, err := hashBlob(ctx, d, b.Digest, prog)
		switch {
		case errors.Is(err, drivers.ErrNotFound):
			s.problems.add(Notice, archive.BlobPath(b.Digest), b.Digest, "vanished since it was listed (garbage-collected?)")
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.problems.add(Damage, archive.BlobPath(b.Digest), b.Digest, "unreadable: %v", err)
			return nil
		case got != b.Digest:
			who := users()[b.Digest]
			msg := fmt.Sprintf("content (%d bytes) hashes to %s: the registry serves corrupt data", n, got)
			if len(who) > 0 {
				msg += "; linked by " + strings.Join(who, ", ") + " (push the images again)"
			}
			s.problems.add(Damage, archive.BlobPath(b.Digest), b.Digest, "%s", msg)
		}
		prog.add(1, 0)
		return nil
	})
	if err != nil {
		return err
	}
	rep.Hashed += len(todo)
	rep.HashedBytes += total
	return nil
}

// linkUsers maps each blob to the repositories whose links name it.
func (s *Snapshot) linkUsers() map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, l := range s.links {
		k := l.Digest + " " + l.P.Repo
		if !seen[k] {
			seen[k] = true
			out[l.Digest] = append(out[l.Digest], l.P.Repo)
		}
	}
	return out
}

// hashBlob reads one blob and returns its digest and size, counting bytes
// into prog as they are read.
func hashBlob(ctx context.Context, d drivers.Driver, digest string, prog *Progress) (string, int64, error) {
	rc, err := d.Reader(ctx, archive.BlobPath(digest))
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	buf := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(buf)
	var total int64
	for {
		n, err := rc.Read(*buf)
		h.Write((*buf)[:n])
		total += int64(n)
		prog.add(0, int64(n))
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", total, fmt.Errorf("%s %s: %w", d.Name(), archive.BlobPath(digest), err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), total, nil
}
