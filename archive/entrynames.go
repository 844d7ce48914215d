package archive

import (
	"crypto/sha256"
	"fmt"
)

// nameSet finds entry names that appear twice. In a regbackup/3 archive
// the link entries come in order of kind, then path (Writer checks it), so
// a name not greater than the one before is out of order and nothing is
// kept; in the older formats, whose writers did not promise an order, it
// keeps 16 bytes of each name's sha256 (a million tags have six million
// link files).
type nameSet struct {
	ordered bool
	order   linkOrder
	seen    map[[16]byte]struct{}
}

// addLink records a link entry's name.
func (s *nameSet) addLink(k Kind, name string) error {
	if !s.ordered {
		return s.add(name)
	}
	if err := s.order.next(k, name); err != nil {
		return fmt.Errorf("%w (or twice): %w", err, ErrCorrupt)
	}
	return nil
}

// add records any other entry's name.
func (s *nameSet) add(name string) error {
	if s.seen == nil {
		s.seen = map[[16]byte]struct{}{}
	}
	sum := sha256.Sum256([]byte(name))
	key := [16]byte(sum[:16])
	if _, dup := s.seen[key]; dup {
		return fmt.Errorf("%s: entry appears twice: %w", name, ErrCorrupt)
	}
	s.seen[key] = struct{}{}
	return nil
}

// linkOrder checks, for a Writer, that links come in the order readers of
// a regbackup/3 archive require.
type linkOrder struct {
	kind Kind
	last string
}

func (o *linkOrder) next(k Kind, path string) error {
	if o.last != "" && (k < o.kind || (k == o.kind && path <= o.last)) {
		return fmt.Errorf("archive: link %s after %s: links go in order of kind, then path", path, o.last)
	}
	o.kind, o.last = k, path
	return nil
}
