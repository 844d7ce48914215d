package regtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"unsafe"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// Synth is a read-only registry of Repos x Tags tags, each its own image
// (a config, one layer and the manifest naming them, as mksample
// -small-files lays them out: six files a tag), made up as it is read
// rather than held: a million tags, which on disk take fifteen million
// inodes, cost it 36 bytes a blob, outside the Go heap. It is for
// measuring what a command holds per tag (its Go heap is the command's
// alone); every file it serves is what a registry would hold, digests
// and sizes right.
type Synth struct {
	repos, tags int
	table       []synthEntry // by digest: every blob; in memory mapped outside the Go heap
	mem         []byte       // what table lives in
}

// synthEntry is one blob: its digest, and which tag's which blob it is
// (tag id << 2 | kind).
type synthEntry struct {
	digest [32]byte
	who    uint32
}

const (
	synthLayer = iota
	synthConfig
	synthManifest
)

// NewSynth makes the registry of repos repositories of tags tags each.
// Close unmaps its table.
func NewSynth(repos, tags int) (*Synth, error) {
	n := repos * tags * 3
	if repos <= 0 || tags <= 0 || repos*tags >= 1<<30 {
		return nil, fmt.Errorf("synth: %d repositories of %d tags: out of range", repos, tags)
	}
	size := n * int(unsafe.Sizeof(synthEntry{}))
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("synth: mapping %d bytes: %w", size, err)
	}
	s := &Synth{repos: repos, tags: tags, mem: mem,
		table: unsafe.Slice((*synthEntry)(unsafe.Pointer(&mem[0])), n)}
	var buf []byte
	for id := range repos * tags {
		for kind := range 3 {
			buf = s.content(buf[:0], uint32(id), kind)
			s.table[id*3+kind] = synthEntry{sha256.Sum256(buf), uint32(id)<<2 | uint32(kind)}
		}
	}
	slices.SortFunc(s.table, func(a, b synthEntry) int { return bytes.Compare(a.digest[:], b.digest[:]) })
	return s, nil
}

// Close unmaps the table.
func (s *Synth) Close() error { return syscall.Munmap(s.mem) }

// Tags is how many tags the registry has.
func (s *Synth) Tags() int { return s.repos * s.tags }

func (s *Synth) repo(id uint32) string { return fmt.Sprintf("synth/r%07d", int(id)/s.tags) }
func (s *Synth) tag(id uint32) string  { return fmt.Sprintf("t%05d", int(id)%s.tags) }

// content appends blob kind of tag id to b.
func (s *Synth) content(b []byte, id uint32, kind int) []byte {
	switch kind {
	case synthLayer:
		return fmt.Appendf(b, "synthetic layer of %s:%s\n", s.repo(id), s.tag(id))
	case synthConfig:
		return fmt.Appendf(b, `{"architecture":"amd64","os":"linux","config":{"Labels":{"synthetic":"%s:%s"}}}`, s.repo(id), s.tag(id))
	}
	var layer, config []byte
	layer = s.content(layer, id, synthLayer)
	config = s.content(config, id, synthConfig)
	return fmt.Appendf(b, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`+
		`"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":"%s"},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":"%s"}]}`,
		len(config), digestOf(config), len(layer), digestOf(layer))
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// blob finds the blob of digest dg ("sha256:<hex>").
func (s *Synth) blob(dg string) (id uint32, kind int, ok bool) {
	raw, err := hex.DecodeString(strings.TrimPrefix(dg, "sha256:"))
	if err != nil || len(raw) != 32 {
		return 0, 0, false
	}
	i, found := slices.BinarySearchFunc(s.table, raw, func(e synthEntry, raw []byte) int { return bytes.Compare(e.digest[:], raw) })
	if !found {
		return 0, 0, false
	}
	return s.table[i].who >> 2, int(s.table[i].who & 3), true
}

// file is the content of the file at path, or false when there is none.
func (s *Synth) file(path string) ([]byte, bool) {
	p := archive.ParsePath(path)
	switch {
	case p.Kind == archive.KindBlob:
		id, kind, ok := s.blob(p.Digest)
		if !ok {
			return nil, false
		}
		return s.content(nil, id, kind), true
	case p.Kind.IsLink():
		for _, f := range s.repoFiles(path) {
			if f.path == path {
				return []byte(f.digest), true
			}
		}
	}
	return nil, false
}

// synthFile is one link file of a repository.
type synthFile struct{ path, digest string }

// repoFiles are the link files of the repository path lies in, in
// lexical order; none when path is in none.
func (s *Synth) repoFiles(path string) []synthFile {
	rest, ok := strings.CutPrefix(path, archive.RegistryRoot+"repositories/synth/r")
	if !ok || len(rest) < 7 {
		return nil
	}
	var r int
	if _, err := fmt.Sscanf(rest[:7], "%d", &r); err != nil || r >= s.repos {
		return nil
	}
	return s.filesOf(r)
}

// filesOf lists repository r's link files in lexical order.
func (s *Synth) filesOf(r int) []synthFile {
	var layers, revisions, tags []synthFile
	for t := range s.tags {
		id := uint32(r*s.tags + t)
		repo, tag := s.repo(id), s.tag(id)
		var buf []byte
		for _, kind := range []int{synthLayer, synthConfig} {
			dg := digestOf(s.content(buf[:0], id, kind))
			layers = append(layers, synthFile{archive.LinkPath(archive.KindLayerLink, repo, "", dg), dg})
		}
		m := digestOf(s.content(buf[:0], id, synthManifest))
		revisions = append(revisions, synthFile{archive.LinkPath(archive.KindRevisionLink, repo, "", m), m})
		tags = append(tags, synthFile{archive.LinkPath(archive.KindTagCurrentLink, repo, tag, ""), m},
			synthFile{archive.LinkPath(archive.KindTagIndexLink, repo, tag, m), m})
	}
	byPath := func(a, b synthFile) int { return strings.Compare(a.path, b.path) }
	slices.SortFunc(layers, byPath)
	slices.SortFunc(revisions, byPath)
	return slices.Concat(layers, revisions, tags) // _layers < _manifests/revisions < _manifests/tags
}

var errReadOnly = errors.New("synth: read-only")

func (s *Synth) Name() string   { return "synth" }
func (s *Synth) String() string { return fmt.Sprintf("synth://%dx%d", s.repos, s.tags) }

func (s *Synth) Stat(ctx context.Context, path string) (drivers.FileInfo, error) {
	data, ok := s.file(path)
	if !ok {
		return drivers.FileInfo{}, fmt.Errorf("synth: %s: %w", path, drivers.ErrNotFound)
	}
	return drivers.FileInfo{Path: path, Size: int64(len(data))}, nil
}

func (s *Synth) Reader(ctx context.Context, path string) (io.ReadCloser, error) {
	data, ok := s.file(path)
	if !ok {
		return nil, fmt.Errorf("synth: %s: %w", path, drivers.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func (s *Synth) Put(ctx context.Context, path string, r io.Reader, size int64) error {
	return errReadOnly
}
func (s *Synth) Delete(ctx context.Context, path string) error { return errReadOnly }

func (s *Synth) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	return s.WalkRead(ctx, prefix, 0, func(fi drivers.FileInfo, _ []byte) error { return fn(fi) })
}

// WalkRead walks repositories/ (giving each link's content, as the
// filesystem does) and blobs/, in lexical order.
func (s *Synth) WalkRead(ctx context.Context, prefix string, limit int64, fn func(drivers.FileInfo, []byte) error) error {
	prefix = strings.TrimSuffix(prefix, "/")
	within := func(p string) bool { return prefix == "" || p == prefix || strings.HasPrefix(p, prefix+"/") }
	blobsRoot, reposRoot := archive.RegistryRoot+"blobs", archive.RegistryRoot+"repositories"
	if within(blobsRoot) || strings.HasPrefix(prefix, blobsRoot) {
		for _, e := range s.table {
			if err := ctx.Err(); err != nil {
				return err
			}
			dg := "sha256:" + hex.EncodeToString(e.digest[:])
			p := archive.BlobPath(dg)
			if !within(p) {
				continue
			}
			size := len(s.content(nil, e.who>>2, int(e.who&3)))
			if err := fn(drivers.FileInfo{Path: p, Size: int64(size)}, nil); err != nil {
				return err
			}
		}
	}
	if within(reposRoot) || strings.HasPrefix(prefix, reposRoot) {
		for r := range s.repos {
			if err := ctx.Err(); err != nil {
				return err
			}
			for _, f := range s.filesOf(r) {
				if !within(f.path) {
					continue
				}
				var data []byte
				if int64(len(f.digest)) <= limit {
					data = []byte(f.digest)
				}
				if err := fn(drivers.FileInfo{Path: f.path, Size: int64(len(f.digest))}, data); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// RemoteSynth is a Synth that says it is remote storage
// (drivers.ConcurrencyHinter), so that a snapshot lists its blobs as it
// does on an object store, and an incremental takes its parent's manifests
// rather than read them.
type RemoteSynth struct{ *Synth }

var _ drivers.ConcurrencyHinter = RemoteSynth{}

func (RemoteSynth) DefaultConcurrency() int { return 16 }
