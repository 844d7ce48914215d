package main

import (
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/restore"
	"github.com/regbackup/regbackup/store"
)

// parentFlags are the flags of commands that read an archive which may be
// incremental or encrypted.
func parentFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "parent", Usage: "parent archive `FILE` (or object URL) of an incremental archive, when it is not beside it (matched by content, any name); repeatable"},
		identityFlag(),
	}
}

// input is an archive argument opened for reading, its catalog read.
type input struct {
	ctx    context.Context
	name   string
	rc     io.ReadCloser
	ar     *archive.Reader
	finder *store.ParentFinder
}

// openInput opens the archive argument name with the --identity keys.
// Parents are looked for beside it (not for stdin) and among --parent.
func openInput(c *cli.Context, name string) (*input, error) {
	ids, err := loadIdentities(c)
	if err != nil {
		return nil, err
	}
	parents, err := archiveRefs(c.Context, c.StringSlice("parent"))
	if err != nil {
		return nil, err
	}
	rc, ref, err := openArchive(c.Context, name)
	if err != nil {
		return nil, err
	}
	ar, err := archive.NewReaderOptions(rc, archive.ReaderOptions{Identities: ids})
	if err != nil {
		rc.Close()
		return nil, keyError(c, name, err)
	}
	f := &store.ParentFinder{Files: parents, Identities: ids, Child: name}
	if ref.Store != nil {
		f.Store, f.Child = ref.Store, ref.Name
	}
	return &input{ctx: c.Context, name: name, rc: rc, ar: ar, finder: f}, nil
}

// parents locates every parent the archive needs, so a missing one fails
// before anything is read or written, and returns the opener for them.
func (in *input) parents() (restore.ParentOpener, error) {
	refs, err := in.finder.LocateAll(in.ctx, in.ar.Catalog())
	if err != nil {
		return nil, err
	}
	return store.Opener(in.ctx, refs), nil
}

func (in *input) Close() {
	in.ar.Close()
	in.rc.Close()
}
