package metadb

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Snapshot is one consistent view of the metadata database: a REPEATABLE
// READ, READ ONLY transaction whose snapshot is exported (ID) so that
// pg_dump (Dump) sees exactly the same rows as the lists below. It stays
// open until Close.
type Snapshot struct {
	// ID is pg_export_snapshot()'s id, valid until Close.
	ID string
	// Server is the PostgreSQL server's version.
	Server Version
	// SchemaVersion is the newest row of schema_migrations (the registry's
	// pre-deployment migrations), e.g. "20250924095703_add_...";
	// PostDeploySchemaVersion the newest of post_deploy_schema_migrations,
	// "" when there is none.
	SchemaVersion           string
	PostDeploySchemaVersion string
	// Repositories are those with a tag or a manifest, sorted by path.
	Repositories []Repository
	// Manifests are every manifest of those repositories, one per digest,
	// sorted by digest.
	Manifests []Manifest
	// Blobs are exactly the blobs the manifests reference (layers and
	// configurations), one per digest, sorted by digest. Manifests are not
	// blobs here: GitLab's registry keeps their payloads in the database
	// only.
	Blobs []Blob

	db *DB
	tx pgx.Tx
}

// Repository is one repository's tags and manifests.
type Repository struct {
	Path      string   // e.g. "group/project/image"
	Tags      []Tag    // sorted by name
	Manifests []string // digests of every manifest in it, tagged or not, sorted
}

// Tag is a tag and the manifest it points to.
type Tag struct {
	Name   string
	Digest string
}

// Manifest is a manifest as the database holds it.
type Manifest struct {
	Digest    string // "sha256:..."
	MediaType string
	Payload   []byte // the bytes the registry serves; Digest is their digest
	Config    string // configuration blob digest, "" for indexes
	Layers    []string
	Children  []string // manifests an index or manifest list references
}

// References are the manifest's configuration, layers and children, in that
// order: what archive.Manifest.References holds.
func (m Manifest) References() []string {
	var out []string
	if m.Config != "" {
		out = append(out, m.Config)
	}
	out = append(out, m.Layers...)
	return append(out, m.Children...)
}

// Blob is a blob a manifest references.
type Blob struct {
	Digest string
	Size   int64
}

// Snapshot opens a REPEATABLE READ, READ ONLY transaction, exports its
// snapshot and reads repositories, tags, manifests and the blobs they
// reference in it. The connection belongs to the snapshot until Close.
func (db *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	tx, err := db.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, db.errorf("begin snapshot: %w", err)
	}
	s := &Snapshot{Server: db.server, db: db, tx: tx}
	if err := s.read(ctx); err != nil {
		tx.Rollback(context.Background())
		return nil, db.errorf("%w", err)
	}
	return s, nil
}

// Close ends the snapshot's transaction; the ID is then no longer valid.
func (s *Snapshot) Close() error {
	if s.tx == nil {
		return nil
	}
	err := s.tx.Rollback(context.Background())
	s.tx = nil
	return err
}

// ErrNotRegistry is returned (wrapped) when the database holds no registry
// schema (no schema_migrations table).
var ErrNotRegistry = errors.New("no registry schema (no schema_migrations table): run `registry database migrate up` on it, or check database.dbname")

func (s *Snapshot) read(ctx context.Context) error {
	if err := s.tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&s.ID); err != nil {
		return fmt.Errorf("export snapshot: %w", err)
	}
	var hasSchema, hasPost bool
	if err := s.tx.QueryRow(ctx, `SELECT to_regclass('public.schema_migrations') IS NOT NULL,
		to_regclass('public.post_deploy_schema_migrations') IS NOT NULL`).Scan(&hasSchema, &hasPost); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if !hasSchema {
		return ErrNotRegistry
	}
	if err := s.tx.QueryRow(ctx, "SELECT coalesce(max(id), '') FROM schema_migrations").Scan(&s.SchemaVersion); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if hasPost {
		if err := s.tx.QueryRow(ctx, "SELECT coalesce(max(id), '') FROM post_deploy_schema_migrations").Scan(&s.PostDeploySchemaVersion); err != nil {
			return fmt.Errorf("post-deployment schema version: %w", err)
		}
	}
	r := &reader{tx: s.tx}
	if err := r.readAll(ctx); err != nil {
		return err
	}
	s.Repositories, s.Manifests, s.Blobs = r.result()
	return nil
}

// key is a row's identity within its repository (ids are per repository in
// GitLab's partitioned tables).
type key struct{ repo, id int64 }

// reader collects the rows of one snapshot.
type reader struct {
	tx        pgx.Tx
	repos     map[int64]string        // id -> path, not deleted
	manifests map[key]*Manifest       // (repository, manifest id) -> manifest
	tags      map[int64][]Tag         // repository -> tags
	inRepo    map[int64][]string      // repository -> manifest digests
	sizes     map[string]int64        // blob digest -> size
	unsized   map[string]bool         // referenced blobs with no size yet
	byDigest  map[string]*Manifest    // one per digest
	children  map[key]map[string]bool // dedup of index children
}

func (r *reader) readAll(ctx context.Context) error {
	r.repos, r.manifests, r.tags, r.inRepo = map[int64]string{}, map[key]*Manifest{}, map[int64][]Tag{}, map[int64][]string{}
	r.sizes, r.unsized, r.byDigest, r.children = map[string]int64{}, map[string]bool{}, map[string]*Manifest{}, map[key]map[string]bool{}
	steps := []struct {
		what string
		fn   func(context.Context) error
	}{
		{"repositories", r.readRepositories}, {"manifests", r.readManifests}, {"layers", r.readLayers},
		{"manifest references", r.readReferences}, {"tags", r.readTags}, {"blobs", r.readBlobSizes},
	}
	for _, st := range steps {
		if err := st.fn(ctx); err != nil {
			return fmt.Errorf("reading %s: %w", st.what, err)
		}
	}
	return nil
}

func (r *reader) readRepositories(ctx context.Context) error {
	rows, err := r.tx.Query(ctx, "SELECT id, path FROM repositories WHERE deleted_at IS NULL")
	if err != nil {
		return err
	}
	var id int64
	var path string
	_, err = pgx.ForEachRow(rows, []any{&id, &path}, func() error {
		r.repos[id] = path
		return nil
	})
	return err
}

func (r *reader) readManifests(ctx context.Context) error {
	rows, err := r.tx.Query(ctx, `SELECT m.repository_id, m.id, encode(m.digest, 'hex'), mt.media_type, m.payload,
			coalesce(encode(m.configuration_blob_digest, 'hex'), '')
		FROM manifests m JOIN media_types mt ON mt.id = m.media_type_id`)
	if err != nil {
		return err
	}
	var repo, id int64
	var dg, mediaType, config string
	var payload []byte
	_, err = pgx.ForEachRow(rows, []any{&repo, &id, &dg, &mediaType, &payload, &config}, func() error {
		if _, ok := r.repos[repo]; !ok {
			return nil
		}
		d, err := decodeDigest(dg)
		if err != nil {
			return fmt.Errorf("manifest %d of repository %d: %w", id, repo, err)
		}
		m := &Manifest{Digest: d, MediaType: mediaType, Payload: append([]byte(nil), payload...)}
		if config != "" {
			if m.Config, err = decodeDigest(config); err != nil {
				return fmt.Errorf("manifest %s: configuration: %w", d, err)
			}
			r.unsized[m.Config] = true
		}
		r.manifests[key{repo, id}] = m
		r.inRepo[repo] = append(r.inRepo[repo], d)
		return nil
	})
	return err
}

func (r *reader) readLayers(ctx context.Context) error {
	rows, err := r.tx.Query(ctx, "SELECT repository_id, manifest_id, encode(digest, 'hex'), size FROM layers ORDER BY repository_id, manifest_id, id")
	if err != nil {
		return err
	}
	var repo, mid, size int64
	var dg string
	_, err = pgx.ForEachRow(rows, []any{&repo, &mid, &dg, &size}, func() error {
		m := r.manifests[key{repo, mid}]
		if m == nil {
			return nil
		}
		d, err := decodeDigest(dg)
		if err != nil {
			return fmt.Errorf("layer of %s: %w", m.Digest, err)
		}
		m.Layers = append(m.Layers, d)
		r.sizes[d] = size
		return nil
	})
	return err
}

func (r *reader) readReferences(ctx context.Context) error {
	rows, err := r.tx.Query(ctx, "SELECT repository_id, parent_id, child_id FROM manifest_references ORDER BY repository_id, parent_id, id")
	if err != nil {
		return err
	}
	var repo, parent, child int64
	_, err = pgx.ForEachRow(rows, []any{&repo, &parent, &child}, func() error {
		p, c := r.manifests[key{repo, parent}], r.manifests[key{repo, child}]
		if p == nil {
			return nil
		}
		if c == nil {
			return fmt.Errorf("manifest %s in %s references manifest id %d, which is not in the database", p.Digest, r.repos[repo], child)
		}
		p.Children = append(p.Children, c.Digest)
		return nil
	})
	return err
}

func (r *reader) readTags(ctx context.Context) error {
	rows, err := r.tx.Query(ctx, "SELECT repository_id, manifest_id, name FROM tags")
	if err != nil {
		return err
	}
	var repo, mid int64
	var name string
	_, err = pgx.ForEachRow(rows, []any{&repo, &mid, &name}, func() error {
		if _, ok := r.repos[repo]; !ok {
			return nil
		}
		m := r.manifests[key{repo, mid}]
		if m == nil {
			return fmt.Errorf("tag %s:%s points to manifest id %d, which is not in the database", r.repos[repo], name, mid)
		}
		r.tags[repo] = append(r.tags[repo], Tag{Name: name, Digest: m.Digest})
		return nil
	})
	return err
}

// readBlobSizes takes the sizes of configurations (layers carry their own)
// from the blobs table.
func (r *reader) readBlobSizes(ctx context.Context) error {
	var want []string
	for d := range r.unsized {
		if _, ok := r.sizes[d]; !ok {
			want = append(want, encodeDigest(d))
		}
	}
	if len(want) == 0 {
		return nil
	}
	rows, err := r.tx.Query(ctx, "SELECT encode(digest, 'hex'), size FROM blobs WHERE digest = ANY (SELECT decode(x, 'hex') FROM unnest($1::text[]) AS x)", want)
	if err != nil {
		return err
	}
	var dg string
	var size int64
	_, err = pgx.ForEachRow(rows, []any{&dg, &size}, func() error {
		d, err := decodeDigest(dg)
		if err != nil {
			return err
		}
		r.sizes[d] = size
		return nil
	})
	if err != nil {
		return err
	}
	for d := range r.unsized {
		if _, ok := r.sizes[d]; !ok {
			return fmt.Errorf("configuration blob %s is referenced but has no row in blobs", d)
		}
	}
	return nil
}

// result sorts what was read.
func (r *reader) result() ([]Repository, []Manifest, []Blob) {
	var repos []Repository
	for id, path := range r.repos {
		digests, tags := uniq(r.inRepo[id]), r.tags[id]
		if len(digests) == 0 && len(tags) == 0 {
			continue
		}
		sort.Slice(tags, func(i, j int) bool { return tags[i].Name < tags[j].Name })
		repos = append(repos, Repository{Path: path, Tags: tags, Manifests: digests})
	}
	sort.Slice(repos, func(i, j int) bool { return repos[i].Path < repos[j].Path })
	byDigest := map[string]Manifest{}
	blobs := map[string]bool{}
	for _, m := range r.manifests {
		if _, ok := byDigest[m.Digest]; !ok {
			byDigest[m.Digest] = *m
		}
		if m.Config != "" {
			blobs[m.Config] = true
		}
		for _, l := range m.Layers {
			blobs[l] = true
		}
	}
	manifests := make([]Manifest, 0, len(byDigest))
	for _, m := range byDigest {
		manifests = append(manifests, m)
	}
	sort.Slice(manifests, func(i, j int) bool { return manifests[i].Digest < manifests[j].Digest })
	out := make([]Blob, 0, len(blobs))
	for d := range blobs {
		out = append(out, Blob{Digest: d, Size: r.sizes[d]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Digest < out[j].Digest })
	return repos, manifests, out
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
