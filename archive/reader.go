package archive

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"

	"filippo.io/age"
)

// Limits on regbackup's own entries, so a hostile archive cannot make a
// reader allocate without bound. Writer checks each before writing (see
// writer.go), so that every archive it writes can be read. The catalog has
// none: it is streamed (see catalog_reader.go); its parts are at most
// maxPartSize each.
const (
	maxTrailerSize = 256 << 20
	maxFileSize    = 64 << 20
	maxPartSize    = 64 << 20
)

// Entry is one entry of an archive after the catalog.
type Entry struct {
	Name string // entry name as stored
	Path Path   // for blobs and links: the parsed registry path
	Link string // for links: the digest the link holds (already validated)
	File *File  // for included files: the catalog's record
	// DatabasePart is, for a part of the metadata database's dump, its
	// number (from 1; parts come in order, before the blobs); 0 otherwise.
	DatabasePart int
	Size         int64
	// Body streams the content. For blobs and included files it hashes as
	// it goes and, instead of io.EOF, returns a *DigestError when the
	// content does not match. Reading it is optional: Next drains and
	// checks what was left.
	Body io.Reader
}

// Reader reads and checks an archive written by Writer. It verifies, as
// the entries stream past: order, names, sizes against the catalog, every
// blob's and file's sha256, that every link names a blob the archive holds,
// and finally the trailer. Not safe for concurrent use.
type Reader struct {
	dec       io.ReadCloser
	tr        *tar.Reader
	comp      Compression
	encrypted bool
	catalog   *Catalog
	catSum    string
	trailer   *Trailer

	stage      stage // the stage of the last entry read
	plan       *blobPlan
	files      map[string]*File
	names      nameSet     // link and file entry names, for duplicates
	pending    *tar.Header // read past the catalog's parts, for Next
	mismatched []*DigestError
	links      int
	nfiles     int
	dbParts    int
	dbBytes    int64
	cur        *verifier
	last       string
	done       bool
}

// ReaderOptions configure NewReaderOptions.
type ReaderOptions struct {
	// Identities decrypt an age-encrypted archive. Without them an
	// encrypted archive fails with ErrEncrypted.
	Identities []age.Identity
	// Visitor, when set, receives the catalog's lists as they are
	// decoded, and Catalog then holds every member but them: the Reader
	// keeps of them only its compact plan of the blobs (see blobPlan), so
	// a catalog of millions of tags is read in bounded memory.
	Visitor *CatalogVisitor
}

// NewReader detects the compression of r, reads the catalog and returns a
// Reader positioned at the first entry after it. An encrypted archive
// fails with ErrEncrypted: use NewReaderOptions.
func NewReader(r io.Reader) (*Reader, error) { return NewReaderOptions(r, ReaderOptions{}) }

// NewReaderOptions is NewReader for archives that may be encrypted: it
// detects an age header and decrypts with opts.Identities (ErrEncrypted
// without any, ErrNoIdentityMatch when none fits). Decrypted data that
// fails age's authentication is ErrCorrupt.
//
// An error reading r before the catalog is read (a network or permission
// failure) is returned wrapped as it is, not as a verdict on the archive.
func NewReaderOptions(r io.Reader, opts ReaderOptions) (*Reader, error) {
	src := &sourceReader{r: r}
	r = src
	plain, encrypted, err := decrypter(r, opts.Identities)
	if err != nil {
		return nil, err
	}
	dec, comp, err := decompressor(plain)
	if err != nil {
		return nil, err
	}
	ar := &Reader{dec: dec, tr: tar.NewReader(dec), comp: comp, encrypted: encrypted, stage: stageCatalog,
		plan: newBlobPlan(), files: map[string]*File{}}
	hdr, err := ar.tr.Next()
	if err != nil {
		dec.Close()
		if src.err != nil {
			return nil, fmt.Errorf("reading the archive: %w", src.err)
		}
		if encrypted && !errors.Is(err, io.EOF) {
			return nil, streamErr("start of the decrypted archive", err)
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("no entries: %w", ErrNotRegbackup)
		}
		if errors.Is(err, tar.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: %v", ErrNotRegbackup, err) // not a tar stream, or too short for one
		}
		return nil, streamErr("start of the archive", err) // a failed decompression: it may be ours, damaged
	}
	if hdr.Name != CatalogName || hdr.Typeflag != tar.TypeReg {
		dec.Close()
		return nil, fmt.Errorf("first entry is %q, not %s: %w", hdr.Name, CatalogName, ErrNotRegbackup)
	}
	if err := checkHeader(hdr); err != nil {
		dec.Close()
		return nil, err
	}
	if err := ar.readCatalog(hdr, opts.Visitor); err != nil {
		dec.Close()
		if src.err != nil {
			return nil, fmt.Errorf("reading the archive's catalog: %w", src.err)
		}
		return nil, err
	}
	ar.names.ordered = ar.catalog.Format == FormatChunked
	if err := ar.indexFiles(ar.catalog); err != nil {
		dec.Close()
		return nil, err
	}
	return ar, nil
}

// indexFiles checks the catalog's included files and indexes them by
// entry name.
func (r *Reader) indexFiles(c *Catalog) error {
	for i := range c.Files {
		f := &c.Files[i]
		if err := f.check(); err != nil {
			return err
		}
		r.files[f.Entry] = f
	}
	return nil
}

// Catalog is the archive's catalog; without its lists when
// ReaderOptions.Visitor was set.
func (r *Reader) Catalog() *Catalog { return r.catalog }

// Compression is the compression the archive was found to use.
func (r *Reader) Compression() Compression { return r.comp }

// Encrypted reports whether the archive was age-encrypted.
func (r *Reader) Encrypted() bool { return r.encrypted }

// CatalogSHA256 is the hex sha256 of the catalog entry as stored: what an
// incremental archive records to identify this one as its parent.
func (r *Reader) CatalogSHA256() string { return r.catSum }

// Held reports whether the blob's entry has been read and matched its
// digest. Complete once Next has returned io.EOF.
func (r *Reader) Held(digest string) bool {
	i := r.plan.find(digest)
	return i >= 0 && r.plan.flags(i)&planHeld != 0
}

// BlobOf is the catalog's record of the blob whose digest's 32 bytes are
// sum (see ParseSum), and whether the catalog lists it. It is there with
// or without ReaderOptions.Visitor: the Reader keeps every blob in its
// plan, so a caller streaming the catalog need not keep them too.
func (r *Reader) BlobOf(sum [32]byte) (Blob, bool) {
	i := r.plan.findSum(sum)
	if i < 0 {
		return Blob{}, false
	}
	return Blob{Digest: r.plan.digest(i), Size: r.plan.size(i), Archive: r.plan.parentName(i)}, true
}

// SizeOf is the size of the blob whose digest's 32 bytes are sum, and
// whether the catalog lists it: BlobOf without the strings.
func (r *Reader) SizeOf(sum [32]byte) (int64, bool) {
	i := r.plan.findSum(sum)
	if i < 0 {
		return 0, false
	}
	return r.plan.size(i), true
}

// Select marks the blob whose digest's 32 bytes are sum as one the caller
// wants, for Selected to tell later (a restore of some repositories marks
// the blobs they need, a bit a blob instead of a set of digests). It
// reports whether the catalog lists the blob, and whether it was marked
// already.
func (r *Reader) Select(sum [32]byte) (listed, already bool) {
	i := r.plan.findSum(sum)
	if i < 0 {
		return false, false
	}
	already = r.plan.flags(i)&planSelected != 0
	r.plan.mark(i, planSelected)
	return true, already
}

// Selected reports whether Select marked the blob whose digest's 32 bytes
// are sum.
func (r *Reader) Selected(sum [32]byte) bool {
	i := r.plan.findSum(sum)
	return i >= 0 && r.plan.flags(i)&planSelected != 0
}

// HolderOf is the parent holding the blob whose digest's 32 bytes are
// sum ("" for this archive) and whether the catalog lists the blob:
// BlobOf without the digest's string.
func (r *Reader) HolderOf(sum [32]byte) (parent string, ok bool) {
	i := r.plan.findSum(sum)
	return r.plan.parentName(i), i >= 0
}

// EachSum is EachBlob with each digest as its 32 bytes, no string made.
func (r *Reader) EachSum(fn func(sum [32]byte, size int64, parent string) error) error {
	return r.plan.each(func(i int) error {
		return fn(r.plan.sum(i), r.plan.size(i), r.plan.parentName(i))
	})
}

// EachBlob calls fn with every blob of the catalog, in digest order, each
// digest once (of one listed twice, the last record), until fn returns
// an error, which EachBlob returns.
func (r *Reader) EachBlob(fn func(Blob) error) error {
	return r.plan.each(func(i int) error {
		return fn(Blob{Digest: r.plan.digest(i), Size: r.plan.size(i), Archive: r.plan.parentName(i)})
	})
}

// Trailer is the archive's trailer, once Next has returned io.EOF.
func (r *Reader) Trailer() *Trailer { return r.trailer }

// Mismatches lists the blobs and files whose content did not match their
// digest, including those the trailer explains as damaged at the source.
func (r *Reader) Mismatches() []*DigestError { return r.mismatched }

// Close releases the decompressor.
func (r *Reader) Close() error { return r.dec.Close() }

func (r *Reader) readSmall(hdr *tar.Header, limit int64) ([]byte, error) {
	if hdr.Size < 0 || hdr.Size > limit {
		return nil, fmt.Errorf("%s: size %d over the limit of %d: %w", hdr.Name, hdr.Size, limit, ErrCorrupt)
	}
	// Grow with the data actually read, not with the size a header claims.
	data, err := io.ReadAll(io.LimitReader(r.tr, hdr.Size))
	if err != nil {
		return nil, streamErr(hdr.Name, err)
	}
	if int64(len(data)) != hdr.Size {
		return nil, streamErr(hdr.Name, io.ErrUnexpectedEOF)
	}
	return data, nil
}

// streamErr turns a tar or decompression failure into an integrity error.
func streamErr(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: archive ends mid-entry (truncated?): %w", name, ErrIncomplete)
	}
	if errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrIncomplete) {
		return err
	}
	return fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
}

// Next finishes checking the previous entry and returns the next one. It
// returns io.EOF after a valid trailer and a clean end of stream; any other
// error means the archive cannot be trusted from that point on.
func (r *Reader) Next() (*Entry, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := r.finishCurrent(); err != nil {
		return nil, err
	}
	for {
		hdr, err := r.pending, error(nil)
		if hdr != nil {
			r.pending = nil
		} else {
			hdr, err = r.tr.Next()
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("archive ends without its trailer (truncated, or the backup was interrupted): %w", ErrIncomplete)
		}
		if err != nil {
			return nil, streamErr("after "+r.lastName(), err)
		}
		if err := checkHeader(hdr); err != nil {
			return nil, err
		}
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		r.last = hdr.Name
		return r.entry(hdr)
	}
}

func (r *Reader) lastName() string {
	if r.last == "" {
		return CatalogName
	}
	return r.last
}

func (r *Reader) order(to stage, name string) error {
	if to < r.stage {
		return fmt.Errorf("%s: entry out of order: %w", name, ErrCorrupt)
	}
	r.stage = to
	return nil
}

func (r *Reader) entry(hdr *tar.Header) (*Entry, error) {
	name := hdr.Name
	switch {
	case name == TrailerName:
		return nil, r.readTrailer(hdr)
	case strings.HasPrefix(name, FilesRoot):
		if err := r.order(stageFiles, name); err != nil {
			return nil, err
		}
		if err := r.names.add(name); err != nil {
			return nil, err
		}
		f := r.files[name]
		if f == nil || f.Size != hdr.Size || hdr.Size > maxFileSize {
			return nil, fmt.Errorf("%s: included file not in the catalog or of the wrong size: %w", name, ErrCorrupt)
		}
		r.nfiles++
		r.cur = newVerifier(r.tr, name, "sha256:"+f.SHA256, hdr.Size)
		return &Entry{Name: name, File: f, Size: hdr.Size, Body: r.cur}, nil
	case strings.HasPrefix(name, DatabaseRoot):
		return r.databaseEntry(name, hdr.Size)
	case strings.HasPrefix(name, MetaRoot):
		return nil, fmt.Errorf("%s: unknown regbackup entry: %w", name, ErrUnsafePath)
	}
	p := ParsePath(name)
	switch {
	case p.Kind == KindBlob:
		if err := r.order(stageBlobs, name); err != nil {
			return nil, err
		}
		i := r.plan.find(p.Digest)
		if i < 0 || r.plan.parent(i) != 0 || r.plan.size(i) != hdr.Size {
			return nil, fmt.Errorf("%s: blob not in the catalog or of the wrong size (%d bytes): %w", name, hdr.Size, ErrCorrupt)
		}
		if r.plan.flags(i)&planSeen != 0 {
			return nil, fmt.Errorf("%s: entry appears twice: %w", name, ErrCorrupt)
		}
		r.plan.mark(i, planSeen)
		r.cur = newVerifier(r.tr, name, p.Digest, hdr.Size)
		r.cur.onOK = func() { r.plan.mark(i, planHeld) }
		return &Entry{Name: name, Path: p, Size: hdr.Size, Body: r.cur}, nil
	case p.Kind.IsLink():
		if err := r.order(stageLinks, name); err != nil {
			return nil, err
		}
		if err := r.names.addLink(p.Kind, name); err != nil {
			return nil, err
		}
		data, err := r.readSmall(hdr, 71)
		if err != nil {
			return nil, err
		}
		d, err := ParseLink(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", name, ErrCorrupt, err)
		}
		if p.Kind != KindTagCurrentLink && d != p.Digest {
			return nil, fmt.Errorf("%s: link holds %s, its path names %s: %w", name, d, p.Digest, ErrCorrupt)
		}
		if i := r.plan.find(d); i < 0 || (r.plan.parent(i) == 0 && r.plan.flags(i)&planHeld == 0) {
			for _, m := range r.mismatched {
				if m.Want == d {
					return nil, fmt.Errorf("%w (and %s links to it)", m, name)
				}
			}
			return nil, fmt.Errorf("%s: links to %s, which the archive does not hold intact: %w", name, d, ErrCorrupt)
		}
		r.links++
		return &Entry{Name: name, Path: p, Link: d, Size: hdr.Size, Body: strings.NewReader(d)}, nil
	}
	return nil, fmt.Errorf("%s: not a blob or link file of the registry layout: %w", name, ErrUnsafePath)
}

// check checks what readers require of an included file's record: an
// entry name under FilesRoot, a clean absolute path, a sha256, a size they
// take.
func (f *File) check() error {
	if !safeName(f.Entry) || !strings.HasPrefix(f.Entry, FilesRoot) || !path.IsAbs(f.Path) ||
		path.Clean(f.Path) != f.Path || !ValidDigest("sha256:"+f.SHA256) {
		return fmt.Errorf("catalog: included file %q (%q): %w", f.Path, f.Entry, ErrUnsafePath)
	}
	if f.Size < 0 || f.Size > maxFileSize {
		return fmt.Errorf("catalog: included file %q: %d bytes, over the limit of %d: %w", f.Path, f.Size, maxFileSize, ErrCorrupt)
	}
	return nil
}

// finishCurrent drains the unread rest of the current blob or file, which
// also checks its digest.
func (r *Reader) finishCurrent() error {
	v := r.cur
	if v == nil {
		return nil
	}
	r.cur = nil
	if !v.finished {
		if _, err := io.Copy(io.Discard, v); err != nil && !errors.Is(err, ErrDigestMismatch) {
			return err
		}
	}
	if v.mismatch != nil {
		r.mismatched = append(r.mismatched, v.mismatch)
	}
	return v.streamErr
}

func (r *Reader) readTrailer(hdr *tar.Header) error {
	data, err := r.readSmall(hdr, maxTrailerSize)
	if err != nil {
		return err
	}
	var t Trailer
	if err := decodeJSON(TrailerName, data, &t); err != nil {
		return err
	}
	// Nothing may follow the trailer, and the compressed stream must end
	// cleanly (this checks the codec's own checksum too).
	if h, err := r.tr.Next(); err == nil {
		return fmt.Errorf("%s: entry after the trailer: %w", h.Name, ErrCorrupt)
	} else if !errors.Is(err, io.EOF) {
		return streamErr("end of archive", err)
	}
	if _, err := io.Copy(io.Discard, r.dec); err != nil {
		return streamErr("end of archive", err)
	}
	r.trailer = &t
	r.done = true
	if err := r.checkTrailer(&t); err != nil {
		return err
	}
	return io.EOF
}

func (r *Reader) checkTrailer(t *Trailer) error {
	switch {
	case !t.Complete:
		return fmt.Errorf("trailer says the archive is not complete: %w", ErrIncomplete)
	case t.CatalogSHA256 != r.catSum:
		return fmt.Errorf("catalog does not match the trailer's checksum: %w", ErrCorrupt)
	case t.Links != r.links || t.Files != r.nfiles:
		return fmt.Errorf("trailer counts %d links and %d files, the archive holds %d and %d: %w",
			t.Links, t.Files, r.links, r.nfiles, ErrCorrupt)
	}
	if err := r.checkDatabase(t); err != nil {
		return err
	}
	explained := map[string]bool{}
	for _, e := range t.Corrupt {
		explained[e.Digest] = true
	}
	for _, e := range t.Missing {
		explained[e.Digest] = true
	}
	for _, m := range r.mismatched {
		if !explained[m.Want] {
			return m
		}
	}
	written := 0
	err := r.plan.each(func(i int) error {
		switch {
		case r.plan.parent(i) != 0:
		case r.plan.flags(i)&planSeen != 0:
			written++
		case !explained[r.plan.digest(i)]:
			return fmt.Errorf("blob %s is in the catalog but not in the archive: %w", r.plan.digest(i), ErrIncomplete)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if written != t.Blobs {
		return fmt.Errorf("trailer counts %d blobs, the archive holds %d: %w", t.Blobs, written, ErrCorrupt)
	}
	return nil
}

// checkHeader rejects entry types and names that could write outside a
// restore's target.
func checkHeader(h *tar.Header) error {
	if err := checkType(h); err != nil {
		return err
	}
	name := strings.TrimSuffix(h.Name, "/")
	if !safeName(name) {
		return fmt.Errorf("%q: absolute or parent-relative entry name: %w", h.Name, ErrUnsafePath)
	}
	if !strings.HasPrefix(name+"/", RegistryRoot) && !strings.HasPrefix(name+"/", MetaRoot) &&
		!strings.HasPrefix(RegistryRoot, name+"/") {
		return fmt.Errorf("%q: outside %s and %s: %w", h.Name, RegistryRoot, MetaRoot, ErrUnsafePath)
	}
	return nil
}

// checkType rejects entries other than regular files and folders: links,
// devices, fifos and sparse files.
func checkType(h *tar.Header) error {
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	case tar.TypeSymlink, tar.TypeLink:
		return fmt.Errorf("%s: %s entries are never restored (link to %q): %w", h.Name, typeName(h.Typeflag), h.Linkname, ErrUnsafePath)
	default:
		return fmt.Errorf("%s: %s entries are never restored: %w", h.Name, typeName(h.Typeflag), ErrUnsafePath)
	}
	for k := range h.PAXRecords {
		// Sparse entries expand to sizes the stream does not hold.
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("%s: sparse entries are never restored: %w", h.Name, ErrUnsafePath)
		}
	}
	return nil
}

func safeName(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && !strings.Contains(name, "\\") &&
		!strings.ContainsRune(name, 0) && path.Clean(name) == name && name != ".." &&
		!strings.HasPrefix(name, "../")
}

func typeName(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("type-%q", t)
}

// verifier streams an entry's content and checks its sha256 at the end.
type verifier struct {
	r         io.Reader
	name      string
	want      string
	left      int64
	h         hash.Hash
	finished  bool
	mismatch  *DigestError
	streamErr error
	onOK      func()
}

func newVerifier(r io.Reader, name, want string, size int64) *verifier {
	return &verifier{r: r, name: name, want: want, left: size, h: sha256.New()}
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.finished {
		if v.mismatch != nil {
			return 0, v.mismatch
		}
		if v.streamErr != nil {
			return 0, v.streamErr
		}
		return 0, io.EOF
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.left -= int64(n)
	if v.left == 0 {
		v.finished = true
		got := "sha256:" + hex.EncodeToString(v.h.Sum(nil))
		if got != v.want {
			v.mismatch = &DigestError{Path: v.name, Want: v.want, Got: got}
			return n, v.mismatch
		}
		if v.onOK != nil {
			v.onOK()
		}
		return n, nil
	}
	if err != nil {
		v.finished = true
		v.streamErr = streamErr(v.name, err)
		return n, v.streamErr
	}
	return n, nil
}

// sourceReader is the stream a Reader reads, remembering its first error
// other than io.EOF, so that a failed read is told from a bad archive.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}
