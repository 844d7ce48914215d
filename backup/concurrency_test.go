package backup_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/restore"
)

// testLatency is each request's latency: large enough that the serial
// run's time is mostly waiting, so the ratio below measures concurrency and
// not the CPU the race detector and a loaded machine add to both runs.
const testLatency = 15 * time.Millisecond

func TestBackupRunsRequestsConcurrently(t *testing.T) {
	mem := regtest.Mem(t)
	reg, err := sample.Generate(t.Context(), mem, sample.Options{Seed: 4, SmallFiles: 6})
	if err != nil {
		t.Fatal(err)
	}
	backupOnce := func(n int) (time.Duration, *regtest.LatencyDriver, []byte) {
		src := regtest.NewLatency(mem, testLatency)
		var buf bytes.Buffer
		start := time.Now()
		if _, err := backup.Backup(t.Context(), src, &buf, backup.Options{Compression: archive.Zstd, Concurrency: n}); err != nil {
			t.Fatalf("concurrency %d: %v", n, err)
		}
		return time.Since(start), src, buf.Bytes()
	}
	serial, _, _ := backupOnce(1)
	parallel, d32, data := backupOnce(32)
	reads, calls := d32.Stats("read")
	t.Logf("%d Readers, %v latency each: concurrency 1 took %v, 32 took %v with %d Readers in flight",
		calls, testLatency, serial, parallel, reads)
	if reads < 16 {
		t.Errorf("concurrency 32: at most %d Readers in flight, want at least 16", reads)
	}
	if parallel > serial/4 {
		t.Errorf("concurrency 32 took %v, concurrency 1 %v: want at least 4x faster", parallel, serial)
	}
	dst := regtest.Mem(t)
	if _, err := restore.Restore(t.Context(), bytes.NewReader(data), dst, restore.Options{}); err != nil {
		t.Fatal(err)
	}
	regtest.SameTags(t, dst, reg)
}
