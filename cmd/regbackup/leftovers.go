package main

import (
	"context"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/store"
)

// leftoversFlag forces the walk of a filesystem target for temp files.
func leftoversFlag() cli.Flag {
	return &cli.BoolFlag{Name: "remove-leftovers", Usage: "on a filesystem target, look for temp files of killed runs in the whole tree " +
		"even when no marker says a run was killed (temp files of a regbackup that wrote no markers; a walk of a big registry takes minutes)"}
}

// removeLeftovers removes, from the registry storage d that this run has
// just locked exclusively (restore, copy), what earlier runs killed half way
// left there: the filesystem's temp files beside blobs and links, an object
// store's unfinished multipart uploads. The lock is what makes this safe
// with no age threshold: no other regbackup run on this host writes to d
// now, so a temp file of regbackup's own name pattern there is dead. The
// registry's own uploads in progress (its _uploads folders) are kept: it
// may be serving d. A count is reported; a failure to remove is a notice,
// not the run's error: leftovers are harmless, just wasted space.
// On a filesystem, call beginWrites first: it decides whether the whole
// tree needs a walk.
func (r *run) removeLeftovers(d drivers.Driver) {
	u := drivers.Underlying(d)
	lr, ok := u.(drivers.LeftoverRemover)
	if !ok {
		return
	}
	remove := lr.RemoveLeftovers
	if fd, ok := u.(*filesystem.Driver); ok {
		remove = r.tempFileRemover(fd)
	}
	n, err := remove(r.c.Context, "", func(p string) bool { return strings.Contains(p, "/_uploads/") })
	r.noteLeftovers(n, err, "in "+d.String())
}

// tempFileRemover picks how to look for the temp files of killed runs on
// a filesystem: RemoveLeftovers, which walks the whole tree only when a
// marker of a run that did not end is at the root, or WalkLeftovers, which
// always walks: under --remove-leftovers, and when this run could not
// write its own marker (a read-only or full disk), since earlier runs then
// could not either.
func (r *run) tempFileRemover(fd *filesystem.Driver) func(context.Context, string, func(string) bool) (int, error) {
	if r.c.Bool("remove-leftovers") || !slices.Contains(r.writing, fd) {
		return fd.WalkLeftovers
	}
	runs, _ := fd.UnfinishedRuns() // an error: RemoveLeftovers walks
	if !r.c.Bool("quiet") {
		for _, m := range runs {
			r.rep.printf("notice: a run that wrote to %s did not finish (%s; killed or crashed?): looking for its temp files in the whole tree\n", fd, m)
		}
	}
	return fd.RemoveLeftovers
}

// beginWrites marks a filesystem target as being written by this run
// (restore, copy), before its first write, so that the next run walks the
// tree for temp files only when this one is killed; finish removes the
// marker. A marker that cannot be written is a notice, never the run's
// error: this run then walks the tree (tempFileRemover).
func (r *run) beginWrites(d drivers.Driver) {
	fd, ok := drivers.Underlying(d).(*filesystem.Driver)
	if !ok {
		return
	}
	if err := fd.BeginWrites(); err != nil {
		if !r.c.Bool("quiet") {
			r.rep.printf("notice: %v: looking for temp files of earlier runs in the whole tree; if this run is killed, "+
				"the next finds its temp files only with --remove-leftovers\n", err)
		}
		return
	}
	r.writing = append(r.writing, fd)
}

// endWrites removes the markers of beginWrites, once the command's writes
// are over (finish). One that stays only makes the next run walk the tree.
func (r *run) endWrites() {
	for _, fd := range r.writing {
		if err := fd.EndWrites(); err != nil && !r.c.Bool("quiet") {
			r.rep.printf("notice: %v (the next restore or copy then looks for temp files in the whole tree)\n", err)
		}
	}
	r.writing = nil
}

// removePartials removes what killed backups left in the archive store
// st: partial files in a folder (those that live backups are writing are
// locked and kept), unfinished uploads of the archive name and its sidecar
// on an object store, whose object key this run locks first: no other run
// on this host writes that key while the lock is held. Uploads of other
// names are left to the bucket's lifecycle rule: a backup of another
// registry may be writing them now.
func (r *run) removePartials(st store.ArchiveStore, name string) error {
	pr, ok := st.(store.PartialRemover)
	if !ok {
		return nil
	}
	if _, local := st.(*store.LocalStore); !local {
		if err := r.lockName(st.Where(name), false); err != nil {
			return err
		}
	}
	n, err := pr.RemovePartials(r.c.Context, name)
	r.noteLeftovers(n, err, "in "+st.String())
	return nil
}

// noteLeftovers records and prints what removeLeftovers or removePartials did.
func (r *run) noteLeftovers(n int, err error, where string) {
	r.out.LeftoversRemoved += n
	if r.c.Bool("quiet") {
		return
	}
	if n > 0 {
		r.rep.printf("notice: removed %d temp file(s) or unfinished upload(s) %s left by an earlier run that did not finish (killed or crashed?)\n", n, where)
	}
	if err != nil {
		r.rep.printf("notice: could not remove everything an earlier run left %s: %v\n", where, err)
	}
}
