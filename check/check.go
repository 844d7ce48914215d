package backup

import (
	"context"
	"errors"
	"fmt"
	"sort"
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
	Concurrency int // link, manifest and blob reads at once; 0: the backend's preference
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
	opts.Concurrency = concurrencyFor(opts.Concurrency, d)
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
