package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/regbackup/regbackup/archive"
)

// KeepPolicy says which archives prune keeps, with restic's and borg's
// meaning: Last keeps the newest N; Daily, Weekly and Monthly keep the
// newest archive of each of the N most recent days, ISO weeks and months
// that have one (in local time). An archive kept for any reason is kept;
// zero turns a rule off.
type KeepPolicy struct {
	Last, Daily, Weekly, Monthly int
}

// Empty reports whether no rule is on.
func (k KeepPolicy) Empty() bool { return k.Last+k.Daily+k.Weekly+k.Monthly == 0 }

// PruneOptions configure Prune.
type PruneOptions struct {
	// Store is where the archives are: a local folder or an object store
	// prefix. When nil, Dir is taken as a local folder.
	Store ArchiveStore
	Dir   string
	// Glob restricts the rules and the deleting to archives whose file
	// name matches (see NameGlob); "" takes every regbackup archive in
	// Dir. Archives it does not match are still read: what they need is
	// kept.
	Glob       string
	Keep       KeepPolicy
	DryRun     bool
	Identities []age.Identity // for encrypted archives without a sidecar
}

// PruneItem is one file prune looked at and what it decided.
type PruneItem struct {
	Path    string    `json:"path"`
	Created time.Time `json:"created,omitzero"`
	Size    int64     `json:"size,omitempty"`
	Keep    bool      `json:"keep"`
	Reasons []string  `json:"reasons,omitempty"` // why kept, or why it is not an archive prune manages
}

// PruneReport lists what Prune kept and deleted (or, with DryRun, would
// delete), newest archive first.
type PruneReport struct {
	Archives []PruneItem `json:"archives"`
	Ignored  []PruneItem `json:"ignored,omitempty"` // not (readable) regbackup archives: never deleted
	Partials []string    `json:"partials,omitempty"`
	Sidecars []string    `json:"orphan_sidecars,omitempty"`
	DryRun   bool        `json:"dry_run,omitempty"`
	Deleted  int         `json:"deleted"`
	Freed    int64       `json:"freed_bytes"`
}

// Prune deletes the archives in opts.Dir that opts.Keep does not keep,
// except any a kept archive needs: every parent of a kept incremental is
// kept, and their parents, whatever their age. Only regbackup archives
// (with their sidecars) are ever deleted, plus regbackup's own partial
// files (".NAME.partial-*") older than a day and sidecars whose archive is
// gone. An archive is described by its sidecar or, when that is missing,
// stale or damaged, by its catalog. Only a file whose catalog says it is
// not a regbackup archive (archive.ErrNotRegbackup; or empty) is left
// alone and ignored. Nothing is deleted when any archive's parents cannot
// be learned: an encrypted archive without a readable sidecar and no
// identity fails with archive.ErrEncrypted or ErrNoIdentityMatch, a
// damaged one with archive.ErrCorrupt (or another sentinel), and a failed
// read (permission, network, timeout) with the store's error, all before
// any deletion.
func Prune(ctx context.Context, opts PruneOptions) (*PruneReport, error) {
	if opts.Keep.Empty() {
		return nil, fmt.Errorf("prune needs at least one --keep-* rule (it never deletes every archive)")
	}
	if opts.Store == nil {
		opts.Store = NewLocalStore(opts.Dir)
	}
	st := opts.Store
	list, err := st.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	// Every archive in the store is described, not only those the name
	// pattern matches: an archive outside it (an incremental written with
	// another -o, or renamed) is never deleted, but the parents it needs
	// are kept like those of a kept archive.
	files := archivesIn(list, "")
	rep := &PruneReport{DryRun: opts.DryRun}
	type entry struct {
		item    PruneItem
		name    string
		m       *archive.Meta
		outside bool // not matched by opts.Glob: kept, not reported
	}
	var all []*entry
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ref := ArchiveRef{Store: st, Name: f.Name}
		outside := false
		if opts.Glob != "" {
			ok, _ := path.Match(opts.Glob, f.Name)
			outside = !ok
		}
		m, err := describeForPrune(ctx, ref, opts.Identities)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err == nil:
		case errors.Is(err, archive.ErrNotRegbackup), f.Size == 0 && errors.Is(err, archive.ErrIncomplete):
			if outside {
				continue
			}
			rep.Ignored = append(rep.Ignored, PruneItem{Path: ref.String(), Keep: true, Reasons: []string{"not a regbackup archive: " + err.Error()}})
			continue
		case errors.Is(err, archive.ErrEncrypted), errors.Is(err, archive.ErrNoIdentityMatch):
			return nil, fmt.Errorf("prune: %s has no readable sidecar (%s), so its parents are unknown, nothing deleted: %w",
				ref, sidecarOf(ref).Name, err)
		default: // damaged, or a failed read (permission, network): it may be an incremental whose parents are unknown
			return nil, fmt.Errorf("prune: cannot learn the parents of %s, nothing deleted (repair, move or remove it): %w", ref, err)
		}
		all = append(all, &entry{item: PruneItem{Path: ref.String(), Created: m.Created, Size: f.Size, Keep: outside},
			name: f.Name, m: m, outside: outside})
	}
	var managed []*entry // the archives the rules apply to, newest first

	sort.Slice(all, func(i, j int) bool {
		if !all[i].item.Created.Equal(all[j].item.Created) {
			return all[i].item.Created.After(all[j].item.Created)
		}
		return all[i].name > all[j].name
	})
	for _, e := range all {
		if !e.outside {
			managed = append(managed, e)
		}
	}
	keep := func(e *entry, reason string) {
		e.item.Keep = true
		e.item.Reasons = append(e.item.Reasons, reason)
	}
	for i, e := range managed {
		if i < opts.Keep.Last {
			keep(e, fmt.Sprintf("last %d", opts.Keep.Last))
		}
	}
	for _, rule := range []struct {
		name   string
		n      int
		bucket func(time.Time) string
	}{
		{"daily", opts.Keep.Daily, func(t time.Time) string { return t.Format("2006-01-02") }},
		{"weekly", opts.Keep.Weekly, func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{"monthly", opts.Keep.Monthly, func(t time.Time) string { return t.Format("2006-01") }},
	} {
		last, count := "", 0
		for _, e := range managed {
			if count >= rule.n {
				break
			}
			b := rule.bucket(e.item.Created.Local())
			if b == last {
				continue
			}
			last = b
			count++
			keep(e, rule.name+" "+b)
		}
	}
	// A kept archive's whole chain is kept: parents by catalog checksum
	// (they may have been renamed), transitively.
	bySum := map[string]*entry{}
	for _, e := range all {
		bySum[e.m.CatalogSHA256] = e
	}
	var queue []*entry
	for _, e := range all {
		if e.item.Keep {
			queue = append(queue, e)
		}
	}
	for len(queue) > 0 {
		e := queue[0]
		queue = queue[1:]
		for _, p := range e.m.Parents {
			pe := bySum[p.CatalogSHA256]
			if pe == nil {
				e.item.Reasons = append(e.item.Reasons, fmt.Sprintf("WARNING: its parent %s is missing, it cannot be restored", p.Name))
				continue
			}
			if !pe.item.Keep {
				queue = append(queue, pe)
			}
			if !slices.ContainsFunc(pe.item.Reasons, func(r string) bool { return strings.HasPrefix(r, "parent of ") }) {
				keep(pe, "parent of "+e.name)
			}
		}
	}
	for _, e := range managed {
		rep.Archives = append(rep.Archives, e.item)
		if e.item.Keep {
			continue
		}
		if !opts.DryRun {
			if err := removeArchive(ctx, ArchiveRef{Store: st, Name: e.name}); err != nil {
				return rep, err
			}
		}
		rep.Deleted++
		rep.Freed += e.item.Size
	}
	if err := pruneLeftovers(ctx, opts, list, time.Now(), rep); err != nil {
		return rep, err
	}
	return rep, nil
}

// describeForPrune describes the archive ref for Prune: from its sidecar
// (without the blob list) when that can be read, else from its catalog.
// A sidecar that is missing, stale or damaged (ErrCorrupt) never hides an
// archive's parents; any other error reading it (permission, network) is
// returned, as are the archive's own (see describeArchive).
func describeForPrune(ctx context.Context, ref ArchiveRef, ids []age.Identity) (*archive.Meta, error) {
	m, err := readSidecarHead(ctx, ref)
	if err == nil || !errors.Is(err, os.ErrNotExist) && !errors.Is(err, archive.ErrCorrupt) {
		return m, err
	}
	return describeArchive(ctx, ref, ids, false)
}

// removeArchive deletes an archive, then its sidecar.
func removeArchive(ctx context.Context, ref ArchiveRef) error {
	for _, r := range []ArchiveRef{ref, sidecarOf(ref)} {
		if err := r.Store.Delete(ctx, r.Name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("prune: %w", err)
		}
	}
	return nil
}

// pruneLeftovers removes regbackup's partial files older than a day (an
// interrupted backup that could not clean up; only local folders have
// them) and sidecars whose archive is gone. list is the folder as Prune
// listed it, before deleting: a sidecar whose archive it holds is not
// orphaned (that archive is still there, or Prune deleted both); the
// archive of any other sidecar is looked up (a symlink is not listed).
func pruneLeftovers(ctx context.Context, opts PruneOptions, list []ArchiveInfo, now time.Time, rep *PruneReport) error {
	st := opts.Store
	listed := make(map[string]bool, len(list))
	for _, fi := range list {
		listed[fi.Name] = true
	}
	list = slices.Clone(list)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	matches := func(name string) bool {
		if opts.Glob == "" {
			return true
		}
		ok, _ := path.Match(opts.Glob, name)
		return ok
	}
	for _, fi := range list {
		name := fi.Name
		switch {
		case strings.HasPrefix(name, ".") && strings.Contains(name, ".partial-"):
			inner := strings.TrimSuffix(name[1:strings.LastIndex(name, ".partial-")], archive.MetaSuffix)
			if !matches(inner) || fi.ModTime.IsZero() || now.Sub(fi.ModTime) < 24*time.Hour {
				continue
			}
			rep.Partials = append(rep.Partials, st.Where(name))
		case strings.HasSuffix(name, archive.MetaSuffix):
			inner := strings.TrimSuffix(name, archive.MetaSuffix)
			if !matches(inner) {
				continue
			}
			if listed[inner] {
				continue
			}
			if _, err := st.Stat(ctx, inner); !errors.Is(err, os.ErrNotExist) {
				continue
			}
			data, err := readAll(ctx, ArchiveRef{Store: st, Name: name})
			if err != nil {
				continue
			}
			if _, err := archive.ParseMeta(data); err != nil {
				continue // not ours
			}
			rep.Sidecars = append(rep.Sidecars, st.Where(name))
		default:
			continue
		}
		if opts.DryRun {
			continue
		}
		if err := st.Delete(ctx, name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("prune: %w", err)
		}
	}
	return nil
}
