package sample

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/filesystem"
	_ "github.com/regbackup/regbackup/drivers/inmemory"
)

func generate(t *testing.T, opts Options) (*memDriver, *Registry) {
	t.Helper()
	d := newMemDriver()
	reg, err := Generate(context.Background(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, reg
}

func TestGenerate(t *testing.T) {
	const size = 5<<20 + 123
	d, reg := generate(t, Options{Seed: 1, LayerBytes: size})
	tr := check(t, d, reg)
	checkShape(t, tr, reg)
	if n := layerBytes(t, tr, reg); n != size {
		t.Errorf("distinct layer bytes = %d, want %d", n, size)
	}
	t.Logf("%d files, %d repositories, %d tags, %d blobs", len(tr.files), len(reg.Repositories), len(reg.Tags), len(reg.Blobs))
}

func TestGenerateDefaultSize(t *testing.T) {
	d, reg := generate(t, Options{})
	tr := check(t, d, reg)
	checkShape(t, tr, reg)
	if n := layerBytes(t, tr, reg); n != DefaultLayerBytes {
		t.Errorf("distinct layer bytes = %d, want %d", n, DefaultLayerBytes)
	}
}

func TestGenerateSmallFiles(t *testing.T) {
	const n = 203
	d, reg := generate(t, Options{Seed: 2, LayerBytes: 1 << 20, SmallFiles: n})
	tr := check(t, d, reg)
	checkShape(t, tr, reg)
	small := 0
	for _, im := range reg.Tags {
		if strings.HasPrefix(im.Repo, "small/") {
			small++
		}
	}
	if small != n {
		t.Errorf("%d small tags, want %d", small, n)
	}
	if len(tr.files) < 8*n {
		t.Errorf("only %d files for %d small tags", len(tr.files), n)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	opts := Options{Seed: 7, LayerBytes: 2 << 20, SmallFiles: 20}
	d1, r1 := generate(t, opts)
	d2, r2 := generate(t, opts)
	if !reflect.DeepEqual(d1.files, d2.files) || !reflect.DeepEqual(r1, r2) {
		t.Errorf("two runs with the same options differ")
	}
	opts.Seed++
	d3, _ := generate(t, opts)
	for p := range d3.files {
		if strings.Contains(p, "/blobs/") && d1.files[p] != nil {
			t.Errorf("seeds 7 and 8 share blob %s", p)
		}
	}
}

func TestGenerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, newMemDriver(), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestCorrupt(t *testing.T) {
	d, reg := generate(t, Options{Seed: 3})
	dg := reg.Tags[0].Digest
	before := d.files[BlobPath(dg)]
	if err := Corrupt(context.Background(), d, dg); err != nil {
		t.Fatal(err)
	}
	after := d.files[BlobPath(dg)]
	diff := 0
	for i := range before {
		if before[i] != after[i] {
			diff++
		}
	}
	if len(after) != len(before) || diff != 1 {
		t.Errorf("Corrupt changed size %d -> %d and %d bytes, want one byte", len(before), len(after), diff)
	}
	if err := Corrupt(context.Background(), d, "sha256:"+strings.Repeat("0", 64)); !errors.Is(err, drivers.ErrNotFound) {
		t.Errorf("Corrupt of a missing blob: %v, want ErrNotFound", err)
	}
}

func TestPlanLayerSizes(t *testing.T) {
	for _, total := range []int64{0, 1000, 3 << 20, 63 << 20, 64 << 20, 1 << 30, 5 << 30} {
		sizes := planLayerSizes(rand.New(rand.NewPCG(1, 2)), total)
		if want := max(total, scaledLayers*minLayerBytes); sum(sizes) != want {
			t.Errorf("%d: sizes sum to %d, want %d", total, sum(sizes), want)
		}
		if len(sizes) < minPoolLayers || slices.Min(sizes) < minLayerBytes/2 {
			t.Errorf("%d: %d layers, smallest %d", total, len(sizes), slices.Min(sizes))
		}
		if total < 1<<30 {
			continue
		}
		big := 0
		for _, s := range sizes {
			switch {
			case s >= 16<<20 && s <= 64<<20:
				big++
			case s < 1<<20 || s > 5<<20:
				t.Errorf("%d: layer of %d bytes", total, s)
			}
		}
		if big < 3 || big > len(sizes)/10 {
			t.Errorf("%d: %d big layers of %d", total, big, len(sizes))
		}
	}
}

// discard is a driver that only counts what Put receives.
type discard struct {
	memDriver
	n atomic.Int64
}

func (d *discard) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	n, err := io.Copy(io.Discard, r)
	d.n.Add(n)
	return err
}

// BenchmarkGenerate1GiB measures generation alone (hashing twice, no storage).
func BenchmarkGenerate1GiB(b *testing.B) {
	for b.Loop() {
		d := &discard{}
		if _, err := Generate(context.Background(), d, Options{Seed: 1, LayerBytes: 1 << 30}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(d.n.Load())
	}
}

// TestGenerateOnDrivers runs the same checks through the project's real
// drivers, opened by location as regbackup would.
func TestGenerateOnDrivers(t *testing.T) {
	for name, loc := range map[string]string{"inmemory": "inmemory://", "filesystem": t.TempDir()} {
		t.Run(name, func(t *testing.T) {
			d, err := drivers.Open(context.Background(), loc)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := Generate(context.Background(), d, Options{Seed: 5, SmallFiles: 10})
			if err != nil {
				t.Fatal(err)
			}
			checkShape(t, check(t, d, reg), reg)
		})
	}
}
