package check

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/snapshot"
)

// hashBlobs reads every blob the snapshot has not hashed yet, in
// parallel, and reports those whose content does not match their digest.
func hashBlobs(ctx context.Context, s *snapshot.Snapshot, ps *problem.List, d drivers.Driver, concurrency int, prog *progress.Progress, rep *Report) error {
	reported := map[string]bool{}
	for _, p := range s.Problems() {
		if p.Severity == problem.Damage && p.Digest != "" && p.Path == archive.BlobPath(p.Digest) {
			reported[p.Digest] = true // a corrupt manifest, already hashed
		}
	}
	var todo []archive.Blob
	var total int64
	for dg, size := range s.Present.All() {
		if !s.Manifests.Has(dg) && !reported[dg] {
			todo = append(todo, archive.Blob{Digest: dg, Size: size})
			total += size
		}
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].Digest < todo[j].Digest })
	prog.StartPhase("hash", fmt.Sprintf("%d blobs, %d bytes", len(todo), total))
	prog.Plan(len(todo), total)
	users := sync.OnceValue(func() map[string][]string { return linkUsers(s) }) // blob -> repositories linking it, built on first need
	err := parallel.ForEach(ctx, concurrency, todo, func(ctx context.Context, b archive.Blob) error {
		got, n, err := blobio.HashBlob(ctx, d, b.Digest, prog)
		switch {
		case errors.Is(err, drivers.ErrNotFound):
			ps.Add(problem.Notice, archive.BlobPath(b.Digest), b.Digest, "vanished since it was listed (garbage-collected?)")
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			ps.Add(problem.Damage, archive.BlobPath(b.Digest), b.Digest, "unreadable: %v", err)
			return nil
		case got != b.Digest:
			who := users()[b.Digest]
			msg := fmt.Sprintf("content (%d bytes) hashes to %s: the registry serves corrupt data", n, got)
			if len(who) > 0 {
				msg += "; linked by " + strings.Join(who, ", ") + " (push the images again)"
			}
			ps.Add(problem.Damage, archive.BlobPath(b.Digest), b.Digest, "%s", msg)
		}
		prog.Add(1, 0)
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
func linkUsers(s *snapshot.Snapshot) map[string][]string {
	out := map[string][]string{}
	seen := map[string]bool{}
	for _, l := range s.Links {
		k := l.Digest() + " " + l.Repo()
		if !seen[k] {
			seen[k] = true
			out[l.Digest()] = append(out[l.Digest()], l.Repo())
		}
	}
	return out
}
