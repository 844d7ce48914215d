package backup

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/regbackup/regbackup/archive"
)

// Verify reads a whole archive and checks it: every blob's and included
// file's digest, that every link names a blob the archive holds intact,
// the entries against the catalog, and the trailer. It writes nothing. A
// nil error means a restore of this archive will succeed; errors wrap the
// archive package's sentinels.
func Verify(ctx context.Context, in io.Reader, prog *Progress) (*Report, *archive.Catalog, error) {
	start := time.Now()
	ar, err := archive.NewReader(in)
	if err != nil {
		return nil, nil, err
	}
	defer ar.Close()
	cat := ar.Catalog()
	var total int64
	for _, b := range cat.Blobs {
		total += b.Size
	}
	prog.phase("verify", fmt.Sprintf("%d blobs, %d bytes", len(cat.Blobs), total))
	prog.plan(len(cat.Blobs), total)
	rep := &Report{Repositories: len(cat.Repositories), Manifests: len(cat.Manifests)}
	for _, r := range cat.Repositories {
		rep.Tags += len(r.Tags)
	}
	ps := newProblems(prog.problem())
	for {
		if err := ctx.Err(); err != nil {
			return nil, cat, err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, cat, err
		}
		switch {
		case e.Path.Kind == archive.KindBlob:
			n, err := io.Copy(io.Discard, e.Body)
			if err != nil {
				// Damaged at the source and marked so, or not: the
				// trailer check at the end decides.
				continue
			}
			rep.Blobs++
			rep.BlobBytes += n
			prog.add(1, n)
		case e.Path.Kind.IsLink():
			rep.Links++
		case e.File != nil:
			rep.Files++
		}
	}
	tr := ar.Trailer()
	for _, x := range tr.Missing {
		ps.add(Damage, "", x.Digest, "not in the archive: %s", x.Reason)
	}
	for _, x := range tr.Corrupt {
		ps.add(Damage, "", x.Digest, "damaged when backed up (%s); no link points to it", x.Reason)
	}
	for _, l := range tr.DroppedLinks {
		ps.add(Damage, l, "", "left out of the archive: its blob could not be copied")
	}
	rep.Problems = ps.list
	rep.Duration = time.Since(start)
	return rep, cat, nil
}
