package regcopy

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Shard is one of Of parts of a registry's blobs, cut by digest: shard
// Index holds the blobs whose digest's first 8 hex digits, read as a
// number v (0 to 2^32-1), give v*Of/2^32 = Index (rounded down). Each
// shard is a contiguous range of digest prefixes: with Of 16, shard Index
// holds the digests whose hex starts with the digit Index; with Of 4,
// shard 0 holds 0-3, shard 1 4-7, and so on. The shards of one Of are
// disjoint and together hold every blob.
//
// The zero Shard (Of 0) is no shard: everything.
type Shard struct {
	Index, Of int
}

// ErrBadShard is what ParseShard returns for a spelling it does not take.
var ErrBadShard = errors.New("want I/N: the shard's index I, from 0 to N-1, and the number of shards N (e.g. 2/4)")

var shardSyntax = regexp.MustCompile(`^([0-9]+)/([0-9]+)$`)

// ParseShard reads "I/N" (e.g. "2/4"): decimal, no spaces or signs,
// N from 1 to 2^32 and I below N.
func ParseShard(s string) (Shard, error) {
	m := shardSyntax.FindStringSubmatch(s)
	if m == nil {
		return Shard{}, fmt.Errorf("%q: %w", s, ErrBadShard)
	}
	i, ierr := strconv.ParseUint(m[1], 10, 32)
	n, nerr := strconv.ParseUint(m[2], 10, 33)
	switch {
	case ierr != nil || nerr != nil || n > 1<<32:
		return Shard{}, fmt.Errorf("%q: too large: %w", s, ErrBadShard)
	case n == 0:
		return Shard{}, fmt.Errorf("%q: there is no shard of 0: %w", s, ErrBadShard)
	case i >= n:
		return Shard{}, fmt.Errorf("%q: the index must be below the number of shards: %w", s, ErrBadShard)
	}
	return Shard{Index: int(i), Of: int(n)}, nil
}

// String is "I/N", as ParseShard reads it; "" for no shard.
func (s Shard) String() string {
	if s.Of == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Of)
}

// Holds reports whether the blob of digest ("sha256:<hex>") falls in s.
// Every digest falls in the zero Shard. A digest whose hex is shorter than
// 8 digits, or not hex, falls in shard 0 (the snapshot never plans one).
func (s Shard) Holds(digest string) bool {
	if s.Of <= 1 {
		return true
	}
	_, hex, _ := strings.Cut(digest, ":")
	v, err := strconv.ParseUint(hex[:min(8, len(hex))], 16, 32)
	if err != nil || len(hex) < 8 {
		return s.Index == 0
	}
	return int(v*uint64(s.Of)>>32) == s.Index
}
