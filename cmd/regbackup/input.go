package main

import (
	"bufio"
	"context"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/gitlabbackup"
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

// input is an archive argument opened for reading, its catalog read: a
// regbackup archive (ar) or one of GitLab's backups (gl).
type input struct {
	ctx    context.Context
	name   string
	rc     io.ReadCloser
	ar     *archive.Reader
	gl     *gitlabbackup.Reader
	finder *store.ParentFinder
}

// openInput opens the archive argument name with the --identity keys.
// Parents are looked for beside it (not for stdin) and among --parent.
// The catalog's lists go to scan as they are read (see
// restore.CatalogScan), never held whole.
func openInput(c *cli.Context, name string, scan *restore.CatalogScan) (*input, error) {
	ids, err := loadIdentities(c)
	if err != nil {
		return nil, err
	}
	parents, err := archiveRefs(c.Context, c.StringSlice("parent"))
	if err != nil {
		return nil, err
	}
	f := &store.ParentFinder{Files: parents, Identities: ids, Child: name}
	if gl, ok, err := openGitLabFolder(name); ok {
		if err != nil {
			return nil, err
		}
		return &input{ctx: c.Context, name: name, rc: io.NopCloser(nil), gl: gl, finder: f}, nil
	}
	rc, ref, err := openArchive(c.Context, name)
	if err != nil {
		return nil, err
	}
	// GitLab's backups are told apart by their first entry.
	br := bufio.NewReaderSize(rc, gitlabbackup.SniffSize)
	if gitlabbackup.Sniff(br) {
		gl, err := gitlabbackup.Open(br, gitlabbackup.Options{SpoolDatabase: true})
		if err != nil {
			rc.Close()
			return nil, err
		}
		return &input{ctx: c.Context, name: name, rc: rc, gl: gl, finder: f}, nil
	}
	ar, err := archive.NewReaderOptions(br, archive.ReaderOptions{Identities: ids, Visitor: scan.Visitor()})
	if err != nil {
		rc.Close()
		return nil, keyError(c, name, err)
	}
	if ref.Store != nil {
		f.Store, f.Child = ref.Store, ref.Name
	}
	return &input{ctx: c.Context, name: name, rc: rc, ar: ar, finder: f}, nil
}

// parents locates every parent the archive needs, so a missing one fails
// before anything is read or written, and returns the opener for them.
func (in *input) parents() (restore.ParentOpener, error) {
	if in.ar == nil {
		return nil, nil // GitLab's backups have no parents
	}
	refs, err := in.finder.LocateAll(in.ctx, in.ar.Catalog())
	if err != nil {
		return nil, err
	}
	return store.Opener(in.ctx, refs), nil
}

func (in *input) Close() {
	if in.ar != nil {
		in.ar.Close()
	}
	if in.gl != nil {
		in.gl.Close()
	}
	in.rc.Close()
}
