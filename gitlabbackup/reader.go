package gitlabbackup

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// Reader reads the registry entries of a GitLab backup, once, in stream
// order. Not safe for concurrent use.
type Reader struct {
	opts Options
	form Form
	comp archive.Compression // of the registry tarball

	outer        *tar.Reader // nil unless FormBackup
	outerDec     io.Closer
	pendingOuter *tar.Header // read by Open, not handled yet
	inner        *tar.Reader // the registry tarball; nil until found
	innerDec     io.ReadCloser
	pending      *tar.Header // read by Open, not handled yet
	innerDone    bool
	closers      []io.Closer
	dbFile       string // FormFolder: the dump to give opts.Database at the end

	info       *Info
	db         *Part
	cur        *archive.Verifier
	curDigest  string
	held       map[string]bool
	mismatched []*archive.DigestError
	notes      []Note
	stats      Stats
	strayNoted map[string]bool
	done       bool
}

// Stats counts what a Reader has read so far.
type Stats struct {
	Blobs     int   // blob entries read (intact or not)
	BlobBytes int64 // their bytes
	Links     int   // well-formed link files yielded
	Uploads   int   // files of uploads in progress, skipped
	Temp      int   // temp files, skipped
	Stray     int   // other files left out (each with a Note)
}

func newReader(opts Options) *Reader {
	return &Reader{opts: opts, held: map[string]bool{}, strayNoted: map[string]bool{}}
}

// Form is the form the backup was read from.
func (r *Reader) Form() Form { return r.form }

// Compression is the registry tarball's compression.
func (r *Reader) Compression() archive.Compression { return r.comp }

// Info is what backup_information.yml says, or nil when it has not been
// read (yet: gitlab-backup before 17.x puts it last in the outer tar, so
// it is complete only once Next has returned io.EOF; a registry tarball
// alone has none).
func (r *Reader) Info() *Info { return r.info }

// Database is the registry database dump the backup holds (nil when it
// holds none, or it has not been passed yet: complete after io.EOF).
func (r *Reader) Database() *Part { return r.db }

// Held reports whether the blob's entry has been read and matched its
// digest. Complete once Next has returned io.EOF.
func (r *Reader) Held(digest string) bool { return r.held[digest] }

// Mismatches lists the blob entries whose content did not match the
// digest their path names, in stream order.
func (r *Reader) Mismatches() []*archive.DigestError { return r.mismatched }

// Notes lists what was noted so far.
func (r *Reader) Notes() []Note { return r.notes }

// Stats counts what was read so far.
func (r *Reader) Stats() Stats { return r.stats }

// Close releases the decompressors and the files OpenFolder opened.
func (r *Reader) Close() error {
	if r.innerDec != nil {
		r.innerDec.Close()
	}
	if r.outerDec != nil {
		r.outerDec.Close()
	}
	for _, c := range r.closers {
		c.Close()
	}
	return nil
}

func (r *Reader) note(n Note) {
	r.notes = append(r.notes, n)
	if r.opts.Note != nil {
		r.opts.Note(n)
	}
}

// Next finishes checking the previous entry and returns the next blob or
// link file of the registry. Blob entries stream through Body, which
// hashes as it goes and returns a *archive.DigestError instead of io.EOF
// when the content does not match (reading it is optional: Next drains
// and checks the rest). Link entries carry the digest they hold in Link;
// malformed ones are Notes, not entries. Next returns io.EOF once the
// whole stream (the outer tar too) was read and ended cleanly; any other
// error means the stream cannot be trusted from there on.
func (r *Reader) Next() (*archive.Entry, error) {
	if r.done {
		return nil, io.EOF
	}
	if err := r.finishCurrent(); err != nil {
		return nil, err
	}
	for !r.innerDone {
		hdr := r.pending
		r.pending = nil
		if hdr == nil {
			var err error
			if hdr, err = r.inner.Next(); errors.Is(err, io.EOF) {
				if err := r.endRegistry(); err != nil {
					return nil, err
				}
				break
			} else if err != nil {
				return nil, streamErr(RegistryPart, err)
			}
		}
		e, err := r.entry(hdr)
		if err != nil || e != nil {
			return e, err
		}
	}
	if err := r.finishOuter(); err != nil {
		return nil, err
	}
	r.done = true
	return nil, io.EOF
}

// finishCurrent drains the unread rest of the current blob, which also
// checks its digest.
func (r *Reader) finishCurrent() error {
	v := r.cur
	if v == nil {
		return nil
	}
	r.cur = nil
	mismatch, err := v.Finish()
	if err != nil {
		return err
	}
	if mismatch != nil {
		r.mismatched = append(r.mismatched, mismatch)
	} else {
		r.held[r.curDigest] = true
	}
	return nil
}

// endRegistry checks that the registry tarball's compressed stream ends
// cleanly after the tar's end (which checks gzip's CRC and zstd's
// checksums).
func (r *Reader) endRegistry() error {
	r.innerDone = true
	if _, err := io.Copy(io.Discard, r.innerDec); err != nil {
		return streamErr("end of "+RegistryPart, err)
	}
	return nil
}

// streamErr turns a tar or decompression failure into an integrity error.
func streamErr(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: the backup ends mid-entry (truncated?): %w", name, archive.ErrIncomplete)
	}
	if errors.Is(err, archive.ErrCorrupt) || errors.Is(err, archive.ErrIncomplete) || errors.Is(err, archive.ErrUnsafePath) {
		return err
	}
	return fmt.Errorf("%s: %w: %v", name, archive.ErrCorrupt, err)
}

// finishOuter reads the rest of the outer tar (the information file may
// come last) and hands a folder's database dump over.
func (r *Reader) finishOuter() error {
	if r.dbFile != "" && r.opts.Database != nil {
		f, err := os.Open(r.dbFile)
		if err != nil {
			return fmt.Errorf("opening %s: %w", DatabasePart, err)
		}
		defer f.Close()
		if err := r.opts.Database(*r.db, f); err != nil {
			return fmt.Errorf("%s: %w", DatabasePart, err)
		}
	}
	if r.outer == nil {
		return nil
	}
	for {
		hdr, err := r.outer.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return streamErr("GitLab backup after "+RegistryPart, err)
		}
		if err := r.outerEntry(hdr); err != nil {
			return err
		}
	}
	if r.info == nil {
		r.note(Note{Message: "the backup holds no " + InfoName})
	}
	return nil
}

// findRegistry reads the outer tar up to the registry tarball and opens
// it, handling the parts before it.
func (r *Reader) findRegistry() error {
	for {
		hdr := r.pendingOuter
		r.pendingOuter = nil
		if hdr == nil {
			var err error
			hdr, err = r.outer.Next()
			if errors.Is(err, io.EOF) {
				if r.info != nil && r.info.SkippedPart("registry") {
					return r.skippedErr()
				}
				return fmt.Errorf("the backup holds no %s: %w", RegistryPart, ErrRegistrySkipped)
			}
			if err != nil {
				return streamErr("GitLab backup", err)
			}
		}
		if isRegistryPart(strings.TrimPrefix(hdr.Name, "./")) && hdr.Typeflag == tar.TypeReg {
			return r.openRegistry(r.outer)
		}
		if err := r.outerEntry(hdr); err != nil {
			return err
		}
		if r.info != nil && r.info.SkippedPart("registry") {
			return r.skippedErr()
		}
	}
}

func isRegistryPart(name string) bool {
	return name == RegistryPart || strings.HasPrefix(name, "registry.tar")
}

// openRegistry starts reading the registry tarball from body.
func (r *Reader) openRegistry(body io.Reader) error {
	dec, comp, err := archive.Decompress(body)
	if err != nil {
		return fmt.Errorf("%s: %w", RegistryPart, err)
	}
	r.inner, r.innerDec, r.comp = tar.NewReader(dec), dec, comp
	return nil
}

// outerEntry handles an entry of the outer tar other than the registry
// tarball: the information file and the database dump are read, the rest
// (GitLab's other parts) passed over.
func (r *Reader) outerEntry(hdr *tar.Header) error {
	name := strings.TrimPrefix(hdr.Name, "./")
	switch {
	case hdr.Typeflag != tar.TypeReg:
		return nil
	case name == InfoName:
		if hdr.Size > maxInfoSize {
			return fmt.Errorf("%s: %d bytes, over %d: %w", InfoName, hdr.Size, maxInfoSize, archive.ErrCorrupt)
		}
		data, err := io.ReadAll(r.outer)
		if err != nil {
			return streamErr(InfoName, err)
		}
		return r.setInfo(data)
	case name == DatabasePart:
		r.db = &Part{Name: name, Size: hdr.Size}
		if r.opts.Database != nil {
			if err := r.opts.Database(*r.db, r.outer); err != nil {
				return fmt.Errorf("%s: %w", DatabasePart, err)
			}
		}
	case isRegistryPart(name):
		return fmt.Errorf("%s: a second registry tarball: %w", name, archive.ErrCorrupt)
	}
	return nil
}

func (r *Reader) setInfo(data []byte) error {
	info, err := ParseInfo(data)
	if err != nil {
		return fmt.Errorf("%w: %v", archive.ErrCorrupt, err)
	}
	r.info = info
	return nil
}

func (r *Reader) skippedErr() error {
	return fmt.Errorf("this backup was made without the container registry (%s says skipped: %s): %w",
		InfoName, strings.Join(r.info.Skipped, ","), ErrRegistrySkipped)
}
