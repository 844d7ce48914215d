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
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// ErrDamagedStorage is returned (wrapped) by Check when the storage has
// damage a registry would fail to serve: malformed or dangling links,
// missing blobs, blobs whose content does not match their digest.
var ErrDamagedStorage = errors.New("registry storage is damaged")

// DefaultStaleUploads is the age past which Check reports an upload in
// progress as stale (the registry's own purger waits a week by default).
const DefaultStaleUploads = 24 * time.Hour

// CheckOptions configure Check.
type CheckOptions struct {
	Concurrency int // link, manifest and blob reads at once
	// ReadData hashes every blob (not only manifests) to find corrupt ones.
	ReadData bool
	// StaleUploads is the age past which an upload in progress is reported;
	// 0 is DefaultStaleUploads.
	StaleUploads time.Duration
	Progress     *Progress
}

// Orphan is a blob no manifest revision reaches: the registry's garbage
// collector would delete it.
type Orphan struct {
	Digest string `json:"digest"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
}

// Upload is an upload in progress (repositories/<name>/_uploads/<id>/).
type Upload struct {
	Repository string    `json:"repository"`
	ID         string    `json:"id"`
	Path       string    `json:"path"`             // the upload's folder
	Started    time.Time `json:"started,omitzero"` // from its startedat file, else its newest file; zero if unknown
	AgeSeconds float64   `json:"age_seconds"`      // at the time of the check; 0 if unknown
	Size       int64     `json:"size"`             // bytes of all its files
}

// CheckReport says what Check found.
type CheckReport struct {
	Repositories int   `json:"repositories"`
	Tags         int   `json:"tags"`
	Manifests    int   `json:"manifests"`
	Links        int   `json:"links"`
	Blobs        int   `json:"blobs"` // blobs in storage
	BlobBytes    int64 `json:"blob_bytes"`
	// ReadData: every blob was hashed; Hashed counts them (manifests,
	// hashed by every check, included).
	ReadData    bool  `json:"read_data"`
	Hashed      int   `json:"hashed"`
	HashedBytes int64 `json:"hashed_bytes"`

	Orphans          []Orphan      `json:"orphans"`
	OrphanBytes      int64         `json:"orphan_bytes"`
	StaleUploads     []Upload      `json:"stale_uploads"`
	StaleUploadBytes int64         `json:"stale_upload_bytes"`
	Uploads          int           `json:"uploads"` // uploads in progress, stale or not
	Problems         []Problem     `json:"problems"`
	Duration         time.Duration `json:"duration_ns"`
}

// Damaged counts the problems of Damage severity.
func (r *CheckReport) Damaged() int {
	n := 0
	for _, p := range r.Problems {
		if p.Severity == Damage {
			n++
		}
	}
	return n
}

// Check examines live registry storage, like fsck, writing nothing: it
// reads every link file (empty, with a trailing newline or garbage: a
// registry answers HTTP 500 for those), every manifest the links name
// (missing, corrupt or referencing missing blobs), lists the blobs no
// manifest revision reaches (orphans, what GC would delete) and the
// uploads in progress older than StaleUploads. With ReadData it also
// hashes every blob. Orphans and stale uploads are not damage. It returns
// ErrDamagedStorage (wrapped) with the report when it found damage.
func Check(ctx context.Context, d drivers.Driver, opts CheckOptions) (*CheckReport, error) {
	start := time.Now()
	prog := opts.Progress
	s := newSnapshot(prog)
	s.checking = true
	if err := s.take(ctx, d, opts.Concurrency, false, prog); err != nil {
		return nil, err
	}
	rep := &CheckReport{Manifests: len(s.Manifests), Links: len(s.links), Blobs: len(s.Present), ReadData: opts.ReadData}
	repos, tags := map[string]bool{}, map[string]bool{}
	for _, l := range s.links {
		repos[l.P.Repo] = true
		if l.P.Kind == archive.KindTagCurrentLink {
			tags[l.P.Repo+":"+l.P.Tag] = true
		}
	}
	rep.Repositories, rep.Tags = len(repos), len(tags)
	for _, size := range s.Present {
		rep.BlobBytes += size
	}
	for dg := range s.Manifests {
		rep.Hashed++
		rep.HashedBytes += s.Present[dg]
	}
	s.findOrphans(rep)
	if err := s.findUploads(ctx, d, opts, rep); err != nil {
		return nil, err
	}
	if opts.ReadData {
		if err := s.hashBlobs(ctx, d, opts.Concurrency, prog, rep); err != nil {
			return nil, err
		}
	}
	rep.Problems = s.Problems()
	rep.Duration = time.Since(start)
	if n := rep.Damaged(); n > 0 {
		return rep, fmt.Errorf("%d problem(s) in %s: %w", n, d, ErrDamagedStorage)
	}
	return rep, nil
}

// findOrphans lists the blobs that no revisions or tag link reaches
// through the manifests (index children included). A _layers link alone
// does not keep a blob: the garbage collector deletes it anyway.
func (s *Snapshot) findOrphans(rep *CheckReport) {
	reached := map[string]bool{}
	var reach func(string)
	reach = func(dg string) {
		if reached[dg] {
			return
		}
		reached[dg] = true
		if m := s.Manifests[dg]; m != nil {
			for _, r := range m.References {
				reach(r)
			}
		}
	}
	for _, l := range s.links {
		if l.P.Kind == archive.KindRevisionLink || l.P.Kind == archive.KindTagCurrentLink {
			reach(l.Digest)
		}
	}
	rep.Orphans = []Orphan{}
	for dg, size := range s.Present {
		if !reached[dg] {
			rep.Orphans = append(rep.Orphans, Orphan{Digest: dg, Path: archive.BlobPath(dg), Size: size})
			rep.OrphanBytes += size
		}
	}
	sort.Slice(rep.Orphans, func(i, j int) bool { return rep.Orphans[i].Digest < rep.Orphans[j].Digest })
}

// findUploads groups the files under _uploads/ by upload and keeps those
// older than opts.StaleUploads (or of unknown age).
func (s *Snapshot) findUploads(ctx context.Context, d drivers.Driver, opts CheckOptions, rep *CheckReport) error {
	maxAge := opts.StaleUploads
	if maxAge <= 0 {
		maxAge = DefaultStaleUploads
	}
	byDir := map[string]*Upload{}
	var dirs []string
	for _, fi := range s.uploads {
		before, after, _ := strings.Cut(fi.Path, "/_uploads/")
		id, _, _ := strings.Cut(after, "/")
		dir := before + "/_uploads/" + id
		u := byDir[dir]
		if u == nil {
			u = &Upload{Repository: strings.TrimPrefix(before, archive.RegistryRoot+"repositories/"), ID: id, Path: dir}
			byDir[dir] = u
			dirs = append(dirs, dir)
		}
		u.Size += fi.Size
		if fi.ModTime.After(u.Started) {
			u.Started = fi.ModTime // the newest file, until startedat says better
		}
	}
	sort.Strings(dirs)
	now := time.Now()
	rep.Uploads = len(dirs)
	rep.StaleUploads = []Upload{}
	for _, dir := range dirs {
		u := byDir[dir]
		data, err := readSmall(ctx, d, dir+"/startedat", 64)
		if err == nil {
			if t, perr := time.Parse(time.RFC3339, strings.TrimSpace(string(data))); perr == nil {
				u.Started = t.UTC()
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		if !u.Started.IsZero() {
			u.AgeSeconds = now.Sub(u.Started).Round(time.Second).Seconds()
			if now.Sub(u.Started) < maxAge {
				continue
			}
		}
		rep.StaleUploads = append(rep.StaleUploads, *u)
		rep.StaleUploadBytes += u.Size
	}
	return nil
}

// hashBlobs reads every blob the snapshot has not hashed yet, in
// parallel, and reports those whose content does not match their digest.
func (s *Snapshot) hashBlobs(ctx context.Context, d drivers.Driver, concurrency int, prog *Progress, rep *CheckReport) error {
	reported := map[string]bool{}
	for _, p := range s.Problems() {
		if p.Severity == Damage && p.Digest != "" {
			reported[p.Digest] = true
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
