package check

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/metadb"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/problem"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/snapshot"
)

// ErrDamagedStorage is returned (wrapped) by Check when the storage has
// damage a registry would fail to serve: malformed or dangling links,
// missing blobs, blobs whose content does not match their digest.
var ErrDamagedStorage = errors.New("registry storage is damaged")

// DefaultStaleUploads is the age past which Check reports an upload in
// progress as stale (the registry's own purger waits a week by default).
const DefaultStaleUploads = 24 * time.Hour

// Options configure Check.
type Options struct {
	Concurrency int // link, manifest and blob reads at once; 0: the backend's preference
	// ReadData hashes every blob (not only manifests) to find corrupt ones.
	ReadData bool
	// StaleUploads is the age past which an upload in progress is reported;
	// 0 is DefaultStaleUploads.
	StaleUploads time.Duration
	Progress     *progress.Progress
	// Database, for a GitLab registry whose metadata is in its database,
	// is that database: Check then compares it with storage (see
	// snapshot.TakeDatabase) instead of reading link files.
	Database *metadb.DB
}

// Orphan is a blob no manifest revision reaches: the registry's garbage
// collector would delete it.
type Orphan struct {
	Digest string `json:"digest"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
}

// Report says what Check found.
type Report struct {
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

	Orphans          []Orphan          `json:"orphans"`
	OrphanBytes      int64             `json:"orphan_bytes"`
	StaleUploads     []Upload          `json:"stale_uploads"`
	StaleUploadBytes int64             `json:"stale_upload_bytes"`
	Uploads          int               `json:"uploads"` // uploads in progress, stale or not
	Problems         []problem.Problem `json:"problems"`
	Duration         time.Duration     `json:"duration_ns"`
	// Metadata is "database" when storage was checked against GitLab's
	// metadata database (Orphans are then empty: see checkDatabase).
	Metadata string `json:"metadata,omitempty"`
}

// Damaged counts the problems of problem.Damage severity.
func (r *Report) Damaged() int {
	n := 0
	for _, p := range r.Problems {
		if p.Severity == problem.Damage {
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
func Check(ctx context.Context, d drivers.Driver, opts Options) (*Report, error) {
	start := time.Now()
	prog := opts.Progress
	opts.Concurrency = parallel.Concurrency(opts.Concurrency, d)
	ps := problem.NewList(prog.ProblemFunc())
	sopts := snapshot.Options{Concurrency: opts.Concurrency, Progress: prog, Problems: ps, ForCheck: true}
	if opts.Database != nil {
		return checkDatabase(ctx, d, opts, sopts, start)
	}
	s, err := snapshot.Take(ctx, d, sopts)
	if err != nil {
		return nil, err
	}
	rep := &Report{Manifests: s.Manifests.Len(), Links: len(s.Links), Blobs: s.Present.Len(), ReadData: opts.ReadData}
	repos := map[string]bool{}
	for _, l := range s.Links {
		repos[l.Repo()] = true
		if l.Kind == archive.KindTagCurrentLink {
			rep.Tags++ // a tag has one current link, and the snapshot lists each link once
		}
	}
	rep.Repositories = len(repos)
	for _, size := range s.Present.All() {
		rep.BlobBytes += size
	}
	for m := range s.Manifests.All() {
		rep.Hashed++
		size, _ := s.Present.Size(m.Digest)
		rep.HashedBytes += size
	}
	findOrphans(s, rep)
	if err := findUploads(ctx, s, d, opts, rep); err != nil {
		return nil, err
	}
	if opts.ReadData {
		if err := hashBlobs(ctx, s, ps, d, opts.Concurrency, prog, rep); err != nil {
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
func findOrphans(s *snapshot.Snapshot, rep *Report) {
	rep.Orphans = []Orphan{}
	for dg, size := range s.Unreached() {
		rep.Orphans = append(rep.Orphans, Orphan{Digest: dg, Path: archive.BlobPath(dg), Size: size})
		rep.OrphanBytes += size
	}
	sort.Slice(rep.Orphans, func(i, j int) bool { return rep.Orphans[i].Digest < rep.Orphans[j].Digest })
}
