package restore

import (
	"context"
	"fmt"
	"io"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
)

// Verify reads a whole archive and checks it: every blob's and included
// file's digest, that every link names a blob the archive holds intact,
// the entries against the catalog, and the trailer. It writes nothing. A
// nil error means a restore of this archive will succeed; errors wrap the
// archive package's sentinels.
func Verify(ctx context.Context, in io.Reader, prog *progress.Progress) (*VerifyReport, *archive.Catalog, error) {
	scan, _ := NewScan(nil)
	ar, err := archive.NewReaderOptions(in, archive.ReaderOptions{Visitor: scan.Visitor()})
	if err != nil {
		return nil, nil, err
	}
	defer ar.Close()
	rep, err := VerifyScan(ctx, ar, scan, VerifyOptions{Progress: prog})
	return rep, ar.Catalog(), err
}

// VerifyReport says what a Verify read.
type VerifyReport struct {
	progress.Totals
	Problems []problem.Problem `json:"problems,omitempty"`
	Duration time.Duration     `json:"duration_ns"`
}

// VerifyOptions configure VerifyArchive.
type VerifyOptions struct {
	Progress *progress.Progress
	// Parents opens the parents of an incremental archive and Identities
	// decrypt them: each is read whole too (see verifyParents).
	Parents    ParentOpener
	Identities []age.Identity
}

// VerifyArchive is Verify of an archive whose catalog the caller has read
// whole (a Reader without a Visitor). For an incremental archive it also
// reads every parent it needs, as a restore would: a nil error means a
// restore of the chain will succeed.
func VerifyArchive(ctx context.Context, ar *archive.Reader, opts VerifyOptions) (*VerifyReport, error) {
	scan, _ := NewScan(nil)
	scan.replay(ar.Catalog())
	return VerifyScan(ctx, ar, scan, opts)
}

// VerifyScan is VerifyArchive of an archive whose catalog the caller has
// read with scan's Visitor (NewScan(nil)), its lists never held whole.
func VerifyScan(ctx context.Context, ar *archive.Reader, scan *CatalogScan, opts VerifyOptions) (*VerifyReport, error) {
	start := time.Now()
	prog := opts.Progress
	scan.finish()
	prog.StartPhase("verify", fmt.Sprintf("%d blobs, %d bytes", scan.blobs, scan.bytes))
	prog.Plan(scan.blobs, scan.bytes)
	rep := &VerifyReport{Totals: progress.Totals{Repositories: len(scan.repos), Manifests: scan.nManifests}}
	rep.Tags, _ = scan.tags()
	ps := problem.NewList(prog.ProblemFunc())
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
			prog.Add(1, n)
		case e.Path.Kind.IsLink():
			rep.Links++
		case e.File != nil:
			rep.Files++
		}
	}
	tr := ar.Trailer()
	for _, x := range tr.Missing {
		ps.Add(problem.Damage, "", x.Digest, "not in the archive: %s", x.Reason)
	}
	for _, x := range tr.Corrupt {
		ps.Add(problem.Damage, "", x.Digest, "damaged when backed up (%s); no link points to it", x.Reason)
	}
	for _, l := range tr.DroppedLinks {
		ps.Add(problem.Damage, l, "", "left out of the archive: its blob could not be copied")
	}
	if err := verifyParents(ctx, ar, opts, rep); err != nil {
		return rep, err
	}
	rep.Problems = ps.All()
	rep.Duration = time.Since(start)
	return rep, nil
}
