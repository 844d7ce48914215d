package regcopy

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/internal/regtest"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"0/1": {0, 1}, "2/4": {2, 4}, "3/4": {3, 4}, "15/16": {15, 16}, "0/4294967296": {0, 1 << 32}} {
		got, err := ParseShard(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseShard(%q) = %v (%q), %v; want %v", in, got, got.String(), err, want)
		}
	}
	for _, in := range []string{"", "4/4", "5/4", "0/0", "1", "/4", "2/", "-1/4", "+1/4", " 1/4", "1/4 ", "1 / 4", "1/4/8", "a/4", "0x1/4", "1/4294967297", "4294967296/4294967297"} {
		if _, err := ParseShard(in); !errors.Is(err, ErrBadShard) {
			t.Errorf("ParseShard(%q): %v, want ErrBadShard", in, err)
		}
	}
}

// TestShardHolds: for each number of shards, every digest falls in exactly
// one shard, the shards are contiguous prefix ranges (with 16, shard i holds
// the digests starting with hex digit i; with 4, those starting with 4i to
// 4i+3), and no shard is left empty by a few thousand digests.
func TestShardHolds(t *testing.T) {
	var digests []string
	for i := range 4096 {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		digests = append(digests, fmt.Sprintf("sha256:%x", sha256.Sum256(b[:])))
	}
	digests = append(digests, "sha256:"+strings.Repeat("0", 64), "sha256:"+strings.Repeat("f", 64), "sha256:7fffffff"+strings.Repeat("0", 56), "sha256:80000000"+strings.Repeat("0", 56))
	for _, n := range []int{1, 2, 3, 4, 7, 16, 256, 1000} {
		counts := make([]int, n)
		for _, d := range digests {
			in := -1
			for i := range n {
				if (Shard{i, n}).Holds(d) {
					if in >= 0 {
						t.Fatalf("%s falls in shards %d/%d and %d/%d", d, in, n, i, n)
					}
					in = i
				}
			}
			if in < 0 {
				t.Fatalf("%s falls in no shard of %d", d, n)
			}
			counts[in]++
			hex := d[len("sha256:"):]
			if first := strings.IndexByte("0123456789abcdef", hex[0]); (n == 16 && in != first) || (n == 4 && in != first/4) || (n == 2 && in != first/8) {
				t.Errorf("%s in shard %d/%d, not its prefix range", d, in, n)
			}
		}
		for i, c := range counts {
			if c == 0 && n <= 256 {
				t.Errorf("shard %d/%d holds none of %d digests", i, n, len(digests))
			}
		}
	}
	if !(Shard{}).Holds("sha256:" + strings.Repeat("a", 64)) {
		t.Error("the zero Shard does not hold everything")
	}
}

// TestCopyShards: the shards of 3, copied one after another into one
// target, copy every needed blob once and write no link file; a plain copy
// afterwards copies no blob, finds them all and writes every link.
func TestCopyShards(t *testing.T) {
	src, reg := regtest.Registry(t)
	planned := plannedBlobs(t, src)
	for name, newTarget := range copyTargets(t) {
		t.Run(name, func(t *testing.T) {
			dst := newTarget(t)
			copied := 0
			for i := range 3 {
				sh := Shard{i, 3}
				rep, err := Copy(t.Context(), src, dst, Options{Concurrency: 3, Shard: sh})
				if err != nil {
					t.Fatal(err)
				}
				want := 0
				for _, b := range planned {
					if sh.Holds(b.Digest) {
						want++
					}
				}
				if rep.Blobs != want || rep.Skipped != 0 || rep.OtherShards != len(planned)-want || rep.Links != 0 || rep.Shard != sh.String() {
					t.Errorf("shard %s: %d blobs copied, %d skipped, %d in other shards, %d links, shard %q; want %d, 0, %d, 0, %q",
						sh, rep.Blobs, rep.Skipped, rep.OtherShards, rep.Links, rep.Shard, want, len(planned)-want, sh)
				}
				copied += rep.Blobs
				regtest.NoLinks(t, dst, "shard "+sh.String())
			}
			if n := regtest.IntactBlobs(t, dst); n != len(planned) || copied != len(planned) {
				t.Errorf("after the shards the target holds %d blobs, %d copied; want the %d planned", n, copied, len(planned))
			}
			if fs := regtest.Files(t, dst, ""); len(fs) != len(planned) {
				for p := range fs {
					if !strings.HasPrefix(p, archive.RegistryRoot+"blobs/") {
						t.Errorf("a shard wrote %s", p)
					}
				}
			}
			rep, err := Copy(t.Context(), src, dst, Options{Concurrency: 3})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Blobs != 0 || rep.Skipped != len(planned) || rep.Links == 0 || rep.Shard != "" {
				t.Errorf("plain copy after the shards: %d blobs copied, %d skipped, %d links; want 0, %d, all", rep.Blobs, rep.Skipped, rep.Links, len(planned))
			}
			regtest.SameTags(t, dst, reg)
		})
	}
}
