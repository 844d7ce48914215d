package gitlabbackup

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/regbackup/regbackup/archive"
)

// Link is one link file held for writing: its storage path, kind and the
// digest it holds.
type Link struct {
	Name   string
	Kind   archive.Kind
	Digest string
}

// pushOrder is the order link kinds are written in, as a push makes them.
var pushOrder = []archive.Kind{archive.KindLayerLink, archive.KindRevisionLink, archive.KindTagIndexLink, archive.KindTagCurrentLink}

// LinkSpool holds the link files of a stream until it has ended, so they
// can be written in push order once every blob was checked: in memory up
// to a limit, beyond it in temp files, one per kind, appended to. Not safe
// for concurrent use. Close removes the temp files.
type LinkSpool struct {
	dir   string
	limit int
	mem   map[archive.Kind][]Link
	inMem int
	files map[archive.Kind]*os.File
	n     int
}

// DefaultSpoolLinks is how many link files a LinkSpool holds in memory
// (some 200 bytes each) before it spills them to disk.
const DefaultSpoolLinks = 100_000

// NewLinkSpool returns a spool that keeps up to limit links in memory
// (DefaultSpoolLinks when limit <= 0) and spills the rest into temp files
// under dir (os.TempDir() when "").
func NewLinkSpool(dir string, limit int) *LinkSpool {
	if limit <= 0 {
		limit = DefaultSpoolLinks
	}
	return &LinkSpool{dir: dir, limit: limit, mem: map[archive.Kind][]Link{}, files: map[archive.Kind]*os.File{}}
}

// Len is the number of links added.
func (s *LinkSpool) Len() int { return s.n }

// Spilled reports whether links went to disk.
func (s *LinkSpool) Spilled() bool { return len(s.files) > 0 }

// Add holds l. Names and digests never hold a newline (ParsePath and
// ParseLink refuse them); one that does is refused.
func (s *LinkSpool) Add(l Link) error {
	if !l.Kind.IsLink() || strings.ContainsAny(l.Name+l.Digest, "\n ") {
		return fmt.Errorf("link spool: not a link file: %q", l.Name)
	}
	s.mem[l.Kind] = append(s.mem[l.Kind], l)
	s.n++
	s.inMem++
	if s.inMem >= s.limit {
		return s.spill()
	}
	return nil
}

// spill appends the links in memory to their kind's temp file.
func (s *LinkSpool) spill() error {
	for _, k := range pushOrder {
		links := s.mem[k]
		if len(links) == 0 {
			continue
		}
		f := s.files[k]
		if f == nil {
			var err error
			if f, err = os.CreateTemp(s.dir, "regbackup-links-*.txt"); err != nil {
				return fmt.Errorf("link spool: %w", err)
			}
			// Unlinked at once and used through f alone: a run killed by
			// SIGKILL leaves nothing in the temp folder (a spool of a
			// million tags is about a GB).
			os.Remove(f.Name())
			s.files[k] = f
		}
		w := bufio.NewWriterSize(f, 256<<10)
		for _, l := range links {
			w.WriteString(l.Digest)
			w.WriteByte(' ')
			w.WriteString(l.Name)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("link spool %s: %w", f.Name(), err)
		}
		s.mem[k] = links[:0]
	}
	s.inMem = 0
	return nil
}

// Each calls fn with every link held, in push order (layers, revisions,
// tag index, tag current), in batches of at most batch links of one kind,
// in the order they were added within a kind. It stops at fn's first
// error and returns it.
func (s *LinkSpool) Each(batch int, fn func(links []Link) error) error {
	if batch <= 0 {
		batch = 4096
	}
	for _, k := range pushOrder {
		if f := s.files[k]; f != nil {
			if err := s.eachSpilled(f, k, batch, fn); err != nil {
				return err
			}
		}
		links := s.mem[k]
		for len(links) > 0 {
			n := min(batch, len(links))
			if err := fn(links[:n]); err != nil {
				return err
			}
			links = links[n:]
		}
	}
	return nil
}

func (s *LinkSpool) eachSpilled(f *os.File, k archive.Kind, batch int, fn func([]Link) error) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("link spool %s: %w", f.Name(), err)
	}
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 256<<10))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	buf := make([]Link, 0, batch)
	for sc.Scan() {
		d, name, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			return fmt.Errorf("link spool %s: damaged line %q", f.Name(), sc.Text())
		}
		buf = append(buf, Link{Name: name, Kind: k, Digest: d})
		if len(buf) == batch {
			if err := fn(buf); err != nil {
				return err
			}
			buf = make([]Link, 0, batch)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("link spool %s: %w", f.Name(), err)
	}
	if len(buf) > 0 {
		return fn(buf)
	}
	return nil
}

// Close closes the temp files (unlinked when made), freeing their space.
func (s *LinkSpool) Close() error {
	for _, f := range s.files {
		f.Close()
	}
	s.files = map[archive.Kind]*os.File{}
	return nil
}
