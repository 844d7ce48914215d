package sample

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

const (
	// DefaultLayerBytes is the layer data Generate writes when
	// Options.LayerBytes is 0.
	DefaultLayerBytes = 3 << 20

	mib = 1 << 20

	// minPoolLayers is how many distinct layers the fixed images need;
	// small totals are split into scaledLayers layers.
	minPoolLayers = roleCount
	scaledLayers  = roleCount + 6
	// minLayerBytes: scaled-down layers get at least half of it, room for
	// the gzip'd tar (minGzipLayer) and 2 KiB of random data.
	minLayerBytes = 8 << 10
	// memLayerBytes: layers up to this size are generated once, in memory;
	// bigger ones are generated twice (hash, then Put) and never held.
	memLayerBytes = 4 * mib
)

// layer is a gzip'd tar of random, incompressible bytes (see gzip.go) that
// can be regenerated from its seed as often as needed.
type layer struct {
	name   string
	seed   [32]byte
	size   int64
	digest string // sha256 of the blob; set by store
	diffID string // sha256 of the uncompressed tar; set by store
}

// newLayer derives a layer's seed from the run's seed and a unique name.
func newLayer(runSeed int64, name string, size int64) *layer {
	return &layer{
		name: name,
		seed: sha256.Sum256(fmt.Appendf(nil, "regbackup-sample/%d/%s", runSeed, name)),
		size: size,
	}
}

// writeTo writes the layer's blob to w and its uncompressed tar to raw
// (if not nil).
func (l *layer) writeTo(ctx context.Context, w, raw io.Writer) error {
	p, err := planGzip(l.size)
	if err != nil {
		return fmt.Errorf("%w: %s has %d bytes", err, l.name, l.size)
	}
	if _, err := w.Write(gzipHeader(p.extra)); err != nil {
		return err
	}
	sw := newStoredWriter(w, raw, p.tar, p.blocks)
	if _, err := sw.Write(tarHeader(fmt.Sprintf("%s-%x.bin", strings.ReplaceAll(l.name, "/", "-"), l.seed[:4]), p.data)); err != nil {
		return err
	}
	src := rand.NewChaCha8(l.seed)
	buf := make([]byte, 64<<10)
	for left := p.data; left > 0; {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := min(left, int64(len(buf)))
		src.Read(buf[:c])
		if _, err := sw.Write(buf[:c]); err != nil {
			return err
		}
		left -= c
	}
	if _, err := sw.Write(make([]byte, 2*tarBlock)); err != nil { // end of archive
		return err
	}
	return sw.finish()
}

// store computes the layer's digests and writes its blob once.
func (l *layer) store(ctx context.Context, g *generator) error {
	var mem bytes.Buffer
	w, sum, raw := io.Writer(&mem), sha256.New(), sha256.New()
	if l.size > memLayerBytes {
		w = sum
	}
	if err := l.writeTo(ctx, w, raw); err != nil {
		return err
	}
	if l.size <= memLayerBytes {
		sum.Write(mem.Bytes())
	}
	l.digest = "sha256:" + hex.EncodeToString(sum.Sum(nil))
	l.diffID = "sha256:" + hex.EncodeToString(raw.Sum(nil))
	if !g.claimBlob(l.digest, l.size) {
		return nil
	}
	var r io.Reader = &mem
	if l.size > memLayerBytes {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(l.writeTo(ctx, pw, nil)) }()
		defer pr.Close() // stops the writer if Put gives up early
		r = pr
	}
	if err := g.d.Put(ctx, BlobPath(l.digest), r, l.size); err != nil {
		return fmt.Errorf("sample: write layer %s: %w", l.digest, err)
	}
	return nil
}

// planLayerSizes splits total bytes into layer sizes. From 64 MiB on, about a
// third goes to a few 16-64 MiB layers and the rest to 1-4 MiB layers; smaller
// totals are split into scaledLayers layers of similar size. The sizes always
// sum to total, which is first raised to scaledLayers*minLayerBytes if below.
func planLayerSizes(rng *rand.Rand, total int64) []int64 {
	total = max(total, scaledLayers*minLayerBytes)
	var sizes []int64
	if total >= 64*mib {
		big := total / 3
		for {
			s := 16*mib + rng.Int64N(48*mib+1)
			if s > big {
				break
			}
			sizes = append(sizes, s)
			big -= s
		}
		for rest := total - sum(sizes); rest > 0; {
			s := 1*mib + rng.Int64N(3*mib+1)
			if rest-s < 1*mib {
				s = rest // the last layer may reach 5 MiB
			}
			sizes = append(sizes, s)
			rest -= s
		}
	}
	if len(sizes) < minPoolLayers {
		// Equal shares, then each gives up to half of itself to a random
		// other: exactly scaledLayers sizes, each at least half a share.
		sizes = make([]int64, scaledLayers)
		for i := range sizes {
			sizes[i] = total / scaledLayers
		}
		sizes[0] += total % scaledLayers
		for i := range sizes {
			d := rng.Int64N(sizes[i]/2 + 1)
			sizes[i] -= d
			sizes[rng.IntN(len(sizes))] += d
		}
	}
	rng.Shuffle(len(sizes), func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	return sizes
}

func sum(s []int64) int64 {
	var n int64
	for _, v := range s {
		n += v
	}
	return n
}

// digestOf is the sha256 digest of b.
func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}
