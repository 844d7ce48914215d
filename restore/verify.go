package backup

import (
	"context"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// Verify reads a whole archive and checks it: every blob's and included
// file's digest, that every link names a blob the archive holds intact,
// the entries against the catalog, and the trailer. It writes nothing. A
// nil error means a restore of this archive will succeed; errors wrap the
// archive package's sentinels.
func Verify(ctx context.Context, in io.Reader, prog *Progress) (*Report, *archive.Catalog, error) {
	ar, err := archive.NewReader(in)
	if err != nil {
		return nil, nil, err
	}
	defer ar.Close()
	rep, err := VerifyArchive(ctx, ar, VerifyOptions{Progress: prog})
	return rep, ar.Catalog(), err
}

// VerifyOptions configure VerifyArchive.
type VerifyOptions struct {
	Progress *Progress
	// Parents opens the parents of an incremental archive and Identities
	// decrypt them: each is read whole too (see verifyParents).
	Parents    ParentOpener
	Identities []age.Identity
}

// VerifyArchive is Verify of an archive whose catalog the caller has read.
// For an incremental archive it also reads every parent it needs, as a
// restore would: a nil error means a restore of the chain will succeed.
func VerifyArchive(ctx context.Context, ar *archive.Reader, opts VerifyOptions) (*Report, error) {
	start := time.Now()
	prog := opts.Progress
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
			return nil, err
		}
		e, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, err
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
	if err := verifyParents(ctx, cat, opts, rep); err != nil {
		return rep, err
	}
	rep.Problems = ps.list
	rep.Duration = time.Since(start)
	return rep, nil
}
