package restore

import (
	"bytes"
	"slices"

	"github.com/regbackup/regbackup/archive"
)

// digestSet is a set of sha256 digests held as their 32 bytes in one
// sorted slice: 32 bytes a digest, where a map of digest strings takes
// about 120. It is built once (add, then finish) and then only read.
type digestSet struct {
	sums [][32]byte
}

// add adds the digest whose 32 bytes are sum; finish must follow.
func (s *digestSet) add(sum [32]byte) { s.sums = append(s.sums, sum) }

// addDigest adds digest d; one that is not a sha256 digest is not added
// (no blob of an archive can have it).
func (s *digestSet) addDigest(d string) {
	if sum, ok := archive.ParseSum(d); ok {
		s.add(sum)
	}
}

// finish sorts the set and drops the digests added twice.
func (s *digestSet) finish() {
	slices.SortFunc(s.sums, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	s.sums = slices.Compact(s.sums)
	s.sums = slices.Clip(s.sums)
}

// has reports whether the set holds sum.
func (s *digestSet) has(sum [32]byte) bool {
	_, ok := slices.BinarySearchFunc(s.sums, sum, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return ok
}

// hasDigest reports whether the set holds digest d.
func (s *digestSet) hasDigest(d string) bool {
	sum, ok := archive.ParseSum(d)
	return ok && s.has(sum)
}

// len is the number of digests; 0 for a nil set.
func (s *digestSet) len() int {
	if s == nil {
		return 0
	}
	return len(s.sums)
}
