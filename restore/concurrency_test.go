package restore

// Many requests in flight on a latency-bound backend, with memory bounded
// and every guarantee of a sequential restore kept.

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/filesystem"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/backuptest"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/progress"
)

const testLatency = 5 * time.Millisecond

// sampleArchive generates a registry and backs it up; it returns the
// source, what was generated and the archive.
func sampleArchive(t *testing.T, opts sample.Options, comp archive.Compression) (drivers.Driver, *sample.Registry, []byte) {
	t.Helper()
	src := regtest.Mem(t)
	reg, err := sample.Generate(t.Context(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := backuptest.Archive(t, src, backup.Options{Compression: comp})
	if err != nil {
		t.Fatal(err)
	}
	return src, reg, data
}

// restoreWith restores data into d through a restorer whose buffer budget
// is bufBytes (0: the default), and returns it for inspection.
func restoreWith(ctx context.Context, t *testing.T, data []byte, d drivers.Driver, opts Options, bufBytes int64) (*restorer, error) {
	t.Helper()
	ar, err := archive.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	scan, err := NewScan(opts.Repositories)
	if err != nil {
		t.Fatal(err)
	}
	scan.replay(ar.Catalog())
	rs, err := newRestorer(ar, scan, d, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.links.Close()
	if bufBytes > 0 {
		rs.bufBytes = bufBytes
	}
	_, err = rs.run(ctx, ar)
	return rs, err
}

func TestRestoreRunsRequestsConcurrently(t *testing.T) {
	_, reg, data := sampleArchive(t, sample.Options{Seed: 3, SmallFiles: 6}, archive.Zstd)
	restore := func(n int) (time.Duration, *regtest.LatencyDriver) {
		dst := regtest.NewLatency(regtest.Mem(t), testLatency)
		prog := &progress.Progress{}
		start := time.Now()
		if _, err := Restore(t.Context(), bytes.NewReader(data), dst, Options{Concurrency: n, Progress: prog}); err != nil {
			t.Fatalf("concurrency %d: %v", n, err)
		}
		took := time.Since(start)
		regtest.SameTags(t, dst.Driver, reg)
		if prog.Blobs.Load() != prog.BlobsTotal.Load() || prog.Bytes.Load() != prog.BytesTotal.Load() {
			t.Errorf("concurrency %d: progress %d/%d blobs, %d/%d bytes at the end", n,
				prog.Blobs.Load(), prog.BlobsTotal.Load(), prog.Bytes.Load(), prog.BytesTotal.Load())
		}
		return took, dst
	}
	serial, d1 := restore(1)
	parallel, d16 := restore(16)
	puts1, calls := d1.Stats("put")
	puts16, _ := d16.Stats("put")
	stats16, _ := d16.Stats("stat")
	t.Logf("%d Puts, %v latency each: concurrency 1 took %v (max %d Puts in flight), 16 took %v (max %d Puts, %d Stats in flight)",
		calls, testLatency, serial, puts1, parallel, puts16, stats16)
	if puts1 > 2 {
		t.Errorf("concurrency 1: %d Puts in flight at once, want at most 2 (one worker, one streamed blob)", puts1)
	}
	if puts16 < 8 || stats16 < 8 {
		t.Errorf("concurrency 16: at most %d Puts and %d Stats in flight, want at least 8", puts16, stats16)
	}
	if parallel > serial/3 {
		t.Errorf("concurrency 16 took %v, concurrency 1 %v: want at least 3x faster", parallel, serial)
	}
}

func TestRestoreDefaultConcurrencyFromDriver(t *testing.T) {
	_, _, data := sampleArchive(t, sample.Options{Seed: 3, SmallFiles: 4}, archive.Zstd)
	for _, hint := range []int{0, 16} {
		dst := regtest.NewLatency(regtest.Mem(t), testLatency)
		dst.Hint = hint
		rs, err := restoreWith(t.Context(), t, data, dst, Options{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := hint
		if hint == 0 {
			want = parallel.DefaultConcurrency
		}
		if rs.n != want {
			t.Errorf("driver hint %d: %d workers, want %d", hint, rs.n, want)
		}
		if puts, _ := dst.Stats("put"); puts > want+1 {
			t.Errorf("driver hint %d: %d Puts in flight, want at most %d", hint, puts, want+1)
		}
	}
}

// bodyKinds counts the Puts of buffered blobs (an io.SectionReader over
// the buffer) and of blobs streamed from the archive.
type bodyKinds struct {
	drivers.Driver
	buffered, streamed atomic.Int64
}

func (b *bodyKinds) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if archive.ParsePath(p).Kind == archive.KindBlob {
		if _, ok := r.(*io.SectionReader); ok {
			b.buffered.Add(1)
		} else {
			b.streamed.Add(1)
		}
	}
	return b.Driver.Put(ctx, p, r, size)
}

// TestMemoryBoundedWithLargeBlobs: a 29 MiB layer among 1-3 MiB ones.
// Restore buffers at most its budget (the default, and 8 MiB where the
// 2-3 MiB layers are big too): bigger blobs stream into Put. backup.Backup with
// 32 readers holds at most the chunks fetch.go promises.
func TestMemoryBoundedWithLargeBlobs(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 96 MiB of layers")
	}
	src, reg, data := sampleArchive(t, sample.Options{Seed: 3, LayerBytes: 96 << 20}, archive.Zstd)
	var big int
	for _, size := range reg.Blobs {
		if size > restoreBuffer/4 {
			big++
		}
	}
	if big == 0 {
		t.Fatal("the sample has no blob over the buffered size; the test needs one")
	}
	for _, budget := range []int64{restoreBuffer, 8 << 20} {
		dst := &bodyKinds{Driver: regtest.NewLatency(regtest.Mem(t), time.Millisecond)}
		blobio.ResetChunkPeak()
		rs, err := restoreWith(t.Context(), t, data, dst, Options{Concurrency: 16}, budget)
		if err != nil {
			t.Fatal(err)
		}
		regtest.SameTags(t, dst, reg)
		peak, chunks := rs.budget.maxUsed(), blobio.ChunkPeak()
		t.Logf("budget %d MiB: %d blobs buffered, %d streamed; at most %.1f MiB buffered, %d chunks out",
			budget>>20, dst.buffered.Load(), dst.streamed.Load(), float64(peak)/(1<<20), chunks)
		if peak > budget || chunks > budget/blobio.ChunkSize {
			t.Errorf("budget %d: %d bytes buffered at once, %d chunks out; want at most the budget", budget, peak, chunks)
		}
		if dst.buffered.Load() == 0 || dst.streamed.Load() < int64(big) {
			t.Errorf("budget %d: %d blobs buffered, %d streamed; want both, and the %d big ones streamed",
				budget, dst.buffered.Load(), dst.streamed.Load(), big)
		}
	}

	blobio.ResetChunkPeak()
	var buf bytes.Buffer
	if _, err := backup.Backup(t.Context(), regtest.NewLatency(src, time.Millisecond), &buf, backup.Options{Compression: archive.Zstd, Concurrency: 32}); err != nil {
		t.Fatal(err)
	}
	bound := backup.MaxChunksInFlight(32)
	t.Logf("backup, 32 readers: %d chunks out at most (bound %d)", blobio.ChunkPeak(), bound)
	if got := blobio.ChunkPeak(); got > bound {
		t.Errorf("backup with 32 readers: %d chunks out at once, fetch.go promises at most %d", got, bound)
	}
}

// blobOffsets maps each blob of an uncompressed archive to where its
// content starts in data.
func blobOffsets(t *testing.T, data []byte) map[string]int64 {
	t.Helper()
	cr := &countingReader{r: bytes.NewReader(data)}
	tr := tar.NewReader(cr)
	out := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p := archive.ParsePath(h.Name); p.Kind == archive.KindBlob {
			out[p.Digest] = cr.n
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestCorruptBlobsMidArchive: a corrupt small blob (buffered) and a
// corrupt big one (streamed) in the middle of the archive. Everything
// else may be committed, but neither of them, and no link.
func TestCorruptBlobsMidArchive(t *testing.T) {
	_, reg, data := sampleArchive(t, sample.Options{Seed: 6, SmallFiles: 8}, archive.None)
	const budget = 256 << 10 // share: 64 KiB, so the 100-300 KiB layers stream
	offsets := blobOffsets(t, data)
	var small, large string
	for dg, size := range reg.Blobs {
		if _, ok := offsets[dg]; !ok {
			continue
		}
		switch {
		case size > 100 && size <= budget/4 && (small == "" || dg < small):
			small = dg
		case size > budget/4 && (large == "" || dg < large):
			large = dg
		}
	}
	if small == "" || large == "" {
		t.Fatalf("no small (%q) or no large (%q) blob in the sample", small, large)
	}
	for _, dg := range []string{small, large} {
		data[offsets[dg]+reg.Blobs[dg]/2] ^= 0xff
	}
	dst := &bodyKinds{Driver: regtest.NewLatency(regtest.Mem(t), time.Millisecond)}
	_, err := restoreWith(t.Context(), t, data, dst, Options{Concurrency: 8}, budget)
	if !errors.Is(err, archive.ErrDigestMismatch) {
		t.Fatalf("restore of an archive with two corrupt blobs: err = %v, want a digest mismatch", err)
	}
	regtest.NoLinks(t, dst, "corrupt archive")
	n := regtest.IntactBlobs(t, dst)
	for _, dg := range []string{small, large} {
		if _, err := dst.Stat(t.Context(), archive.BlobPath(dg)); !errors.Is(err, drivers.ErrNotFound) {
			t.Errorf("corrupt blob %s: Stat = %v, want not found", dg, err)
		}
	}
	if n == 0 || dst.buffered.Load() == 0 || dst.streamed.Load() == 0 {
		t.Errorf("%d blobs committed, %d buffered and %d streamed Puts: the test should exercise both", n, dst.buffered.Load(), dst.streamed.Load())
	}
}

func TestRestorePutErrorStops(t *testing.T) {
	_, _, data := sampleArchive(t, sample.Options{Seed: 7, SmallFiles: 30}, archive.Zstd)
	ar, err := archive.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	blobs := len(ar.Catalog().Blobs)
	ar.Close()
	errFull := errors.New("quota exceeded")
	const failAt, n = 5, 8
	dst := regtest.NewLatency(regtest.Mem(t), 2*time.Millisecond)
	dst.Fail = func(p string, call int) error {
		if call == failAt {
			return errFull
		}
		return nil
	}
	_, err = Restore(t.Context(), bytes.NewReader(data), dst, Options{Concurrency: n})
	if !errors.Is(err, errFull) || errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the Put's own error, not a cancellation", err)
	}
	if !strings.Contains(err.Error(), "restoring blob sha256:") {
		t.Errorf("err = %q, want it to name the blob", err)
	}
	regtest.NoLinks(t, dst, "failed restore")
	regtest.IntactBlobs(t, dst)
	if _, calls := dst.Stats("put"); calls > failAt+2*n {
		t.Errorf("%d Puts called of %d blobs: the restore went on after the failure", calls, blobs)
	}
}

// cancelAfter cancels a context once its nth blob Put returned: Ctrl-C in
// the middle of a restore.
type cancelAfter struct {
	drivers.Driver
	n      int32
	puts   atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfter) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	err := c.Driver.Put(ctx, p, r, size)
	if c.puts.Add(1) == c.n {
		c.cancel()
	}
	return err
}

func TestInterruptedRestoreLeavesNoTempFiles(t *testing.T) {
	_, _, data := sampleArchive(t, sample.Options{Seed: 8, SmallFiles: 20}, archive.Zstd)
	root := t.TempDir()
	fsd, err := filesystem.New(root, filesystem.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dst := &cancelAfter{Driver: regtest.NewLatency(fsd, 2*time.Millisecond), n: 6, cancel: cancel}
	_, err = restoreWith(ctx, t, data, dst, Options{Concurrency: 8}, 1<<20)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".tmp") || strings.Contains(p, ".regbackup-") {
			t.Errorf("temp file left behind: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	regtest.NoLinks(t, fsd, "interrupted restore")
	if n := regtest.IntactBlobs(t, fsd); n == 0 {
		t.Error("no blob committed before the interruption; the test should interrupt mid-way")
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("root: %v", err)
	}
}

// TestRestoreTinyBudget: with a budget smaller than one chunk, blobs whose
// buffer would not fit stream instead of waiting forever for room.
func TestRestoreTinyBudget(t *testing.T) {
	_, reg, data := sampleArchive(t, sample.Options{Seed: 9, SmallFiles: 4}, archive.Zstd)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, budget := range []int64{1, 100 << 10, blobio.ChunkSize + 1} {
		dst := &bodyKinds{Driver: regtest.Mem(t)}
		rs, err := restoreWith(ctx, t, data, dst, Options{Concurrency: 3}, budget)
		if err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		regtest.SameTags(t, dst, reg)
		if got := rs.budget.maxUsed(); got > budget {
			t.Errorf("budget %d: %d bytes buffered at once", budget, got)
		}
	}
}
