package main

import (
	"strings"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/store"
)

// removeLeftovers removes, from the registry storage d that this run has
// just locked exclusively (restore, copy), what earlier runs killed half way
// left there: the filesystem's temp files beside blobs and links, an object
// store's unfinished multipart uploads. The lock is what makes this safe
// with no age threshold: no other regbackup run on this host writes to d
// now, so a temp file of regbackup's own name pattern there is dead. The
// registry's own uploads in progress (its _uploads folders) are kept: it
// may be serving d. A count is reported; a failure to remove is a notice,
// not the run's error: leftovers are harmless, just wasted space.
func (r *run) removeLeftovers(d drivers.Driver) {
	lr, ok := drivers.Underlying(d).(drivers.LeftoverRemover)
	if !ok {
		return
	}
	n, err := lr.RemoveLeftovers(r.c.Context, "", func(p string) bool { return strings.Contains(p, "/_uploads/") })
	r.noteLeftovers(n, err, "in "+d.String())
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
