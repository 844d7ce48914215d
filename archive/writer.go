package archive

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"filippo.io/age"
)

// WriterOptions configure a Writer.
type WriterOptions struct {
	Compression Compression
	Level       int // codec level; 0 = fast default
	Concurrency int // compressor goroutines; 0 = GOMAXPROCS
	// Recipients, when set, encrypt the compressed stream with age to
	// every one of them (compress, then encrypt).
	Recipients []age.Recipient
}

// Writer writes one archive, in order: WriteCatalog once, then WriteDatabase
// once when the catalog describes a metadata database, then any number of
// WriteBlob, then WriteLink, then WriteFile calls, then Close with the
// trailer. Calls out of that order fail. A Writer is not safe for concurrent
// use: feed it from one goroutine (parallel readers, one ordered writer).
type Writer struct {
	codec   io.WriteCloser
	seal    func() error // finishes the encryption, after the codec
	tw      *tar.Writer
	stage   stage
	mtime   time.Time
	trailer Trailer
	zero    []byte
	buf     []byte
	links   *linkEntries   // nil when archive/tar writes every link
	catalog *CatalogWriter // begun and not yet closed
	order   *linkOrder     // links must come in order (regbackup/3)
	hasDB   bool           // the catalog describes a metadata database
	dbParts int            // database dump parts written
}

// NewWriter starts an archive on w. The caller closes w after Close.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	ew, seal, err := encrypter(w, opts.Recipients)
	if err != nil {
		return nil, err
	}
	c, err := compressor(ew, opts.Compression, opts.Level, opts.Concurrency)
	if err != nil {
		return nil, err
	}
	return &Writer{codec: c, seal: seal, tw: tar.NewWriter(c)}, nil
}

func (w *Writer) advance(to stage, what string) error {
	if w.catalog != nil {
		return fmt.Errorf("archive: %s written before the catalog was closed", what)
	}
	if w.stage > to || (to > stageCatalog && w.stage == stageStart) {
		return fmt.Errorf("archive: %s written out of order", what)
	}
	w.stage = to
	return nil
}

func (w *Writer) header(name string, size int64, mode int64) error {
	h := w.tarHeader(name, size, mode)
	return w.tw.WriteHeader(&h)
}

// tarHeader is the header of every entry: a regular file with the
// catalog's time.
func (w *Writer) tarHeader(name string, size int64, mode int64) tar.Header {
	return tar.Header{
		Typeflag: tar.TypeReg, Name: name, Size: size, Mode: mode,
		ModTime: w.mtime, Format: tar.FormatPAX,
	}
}

// WriteCatalog writes the whole catalog c; it must come first. It sets
// c.Format to the format written (see CatalogWriter): regbackup/1 or /2
// for a catalog of up to PartSize bytes, else regbackup/3.
func (w *Writer) WriteCatalog(c *Catalog) error {
	cw, err := w.BeginCatalog(c)
	if err != nil {
		return err
	}
	if err := cw.Lists(c); err != nil {
		return err
	}
	for _, b := range c.Blobs {
		if err := cw.Blob(b); err != nil {
			return err
		}
	}
	if err := cw.Close(); err != nil {
		return err
	}
	c.Format = cw.Format()
	return nil
}

// WriteBlob writes a blob entry of exactly size bytes copied from r.
// compressed says the content is already compressed (see LooksCompressed):
// with zstd it is then stored, not compressed again. If r
// ends early the entry is padded with zeros so the tar stays readable, and
// WriteBlob returns io.ErrUnexpectedEOF: the caller must then report the
// blob with MarkCorrupt. Errors from r are returned as they are; the archive
// is then unusable and the caller must abandon it.
func (w *Writer) WriteBlob(digest string, size int64, r io.Reader, compressed bool) (written int64, err error) {
	if err := w.advance(stageBlobs, "blob"); err != nil {
		return 0, err
	}
	if err := w.header(BlobPath(digest), size, 0o644); err != nil {
		return 0, err
	}
	w.trailer.Blobs++
	w.trailer.BlobBytes += size
	if zs, ok := w.codec.(*zstdSink); ok && compressed && size >= minStoredBlob {
		if err := zs.setRaw(true); err != nil {
			return 0, err
		}
		defer func() {
			if serr := zs.setRaw(false); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	// Hide tar.Writer's ReadFrom so the copy uses a chunk-sized buffer.
	n, err := io.CopyBuffer(struct{ io.Writer }{w.tw}, io.LimitReader(r, size), w.copyBuf())
	if err != nil {
		return n, err
	}
	if n < size {
		if err := w.pad(size - n); err != nil {
			return n, err
		}
		return n, io.ErrUnexpectedEOF
	}
	return n, nil
}

// minStoredBlob is the size from which an already-compressed blob gets a
// raw frame of its own; below it, ending and restarting frames costs more
// than it saves.
const minStoredBlob = 64 << 10

func (w *Writer) copyBuf() []byte {
	if w.buf == nil {
		w.buf = make([]byte, 1<<20)
	}
	return w.buf
}

func (w *Writer) pad(n int64) error {
	if w.zero == nil {
		w.zero = make([]byte, 32<<10)
	}
	for n > 0 {
		k := min(n, int64(len(w.zero)))
		if _, err := w.tw.Write(w.zero[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// MarkCorrupt records that the blob entry just written for digest does not
// hold the right content (the source was damaged or changed while read).
func (w *Writer) MarkCorrupt(digest, reason string) {
	w.trailer.Corrupt = append(w.trailer.Corrupt, Exclusion{Digest: digest, Reason: reason})
}

// MarkMissing records a planned blob that was never written.
func (w *Writer) MarkMissing(digest, reason string) {
	w.trailer.Missing = append(w.trailer.Missing, Exclusion{Digest: digest, Reason: reason})
}

// DropLink records a link left out because its blob is not in the archive.
func (w *Writer) DropLink(path string) {
	w.trailer.DroppedLinks = append(w.trailer.DroppedLinks, path)
}

// WriteLink writes one link file entry at its storage path (see LinkPath)
// holding digest.
func (w *Writer) WriteLink(path, digest string) error {
	if err := w.advance(stageLinks, "link"); err != nil {
		return err
	}
	p := ParsePath(path)
	if !p.Kind.IsLink() {
		return fmt.Errorf("archive: %q is not a link path", path)
	}
	if w.order != nil {
		if err := w.order.next(p.Kind, path); err != nil {
			return err
		}
	}
	if !ValidDigest(digest) {
		return fmt.Errorf("archive: %s: bad digest %q", path, digest)
	}
	if w.links != nil {
		if entry, ok := w.links.entry(path, digest); ok {
			if err := w.tw.Flush(); err != nil { // the previous entry's padding
				return err
			}
			w.trailer.Links++
			_, err := w.codec.Write(entry)
			return err
		}
	}
	if err := w.header(path, int64(len(digest)), 0o644); err != nil {
		return err
	}
	w.trailer.Links++
	_, err := io.WriteString(w.tw, digest)
	return err
}

// WriteFile writes an included file's content under f.Entry. f must also be
// listed in the catalog.
func (w *Writer) WriteFile(f File, content []byte) error {
	if err := w.advance(stageFiles, "included file"); err != nil {
		return err
	}
	if len(content) > maxFileSize || int64(len(content)) != f.Size {
		return fmt.Errorf("archive: included file %s: %d bytes (the catalog says %d; readers take up to %d)",
			f.Path, len(content), f.Size, maxFileSize)
	}
	if err := w.header(f.Entry, int64(len(content)), int64(f.Mode&0o777)); err != nil {
		return err
	}
	w.trailer.Files++
	_, err := w.tw.Write(content)
	return err
}

// Trailer returns what the trailer will say so far.
func (w *Writer) Trailer() Trailer { return w.trailer }

// Close writes the trailer, ends the tar stream and flushes the compressor.
// An archive without a successful Close is incomplete by design: readers
// reject it.
func (w *Writer) Close() error {
	if w.stage == stageStart || w.catalog != nil {
		return fmt.Errorf("archive: closed before the catalog was written")
	}
	if w.hasDB && w.dbParts == 0 {
		return fmt.Errorf("archive: %w", ErrNoDump)
	}
	w.stage = stageTrailer
	w.trailer.Complete = true
	data, err := json.MarshalIndent(&w.trailer, "", " ")
	if err != nil {
		return err
	}
	if len(data) > maxTrailerSize {
		return fmt.Errorf("archive: the trailer would be %d bytes, over the %d readers take (%d missing, %d corrupt blobs, %d dropped links)",
			len(data), maxTrailerSize, len(w.trailer.Missing), len(w.trailer.Corrupt), len(w.trailer.DroppedLinks))
	}
	if err := w.header(TrailerName, int64(len(data)), 0o644); err != nil {
		return err
	}
	if _, err := w.tw.Write(data); err != nil {
		return err
	}
	if err := w.tw.Close(); err != nil {
		return err
	}
	if err := w.codec.Close(); err != nil {
		return err
	}
	return w.seal()
}

// CatalogSHA256 is the hex sha256 of the catalog entry written.
func (w *Writer) CatalogSHA256() string { return w.trailer.CatalogSHA256 }

// Abort releases the compressor without writing a trailer, for a backup
// that failed or was interrupted.
func (w *Writer) Abort() { w.codec.Close() }
