package backup_test

// A blob deleted (by GC or a delete) after the snapshot read the link files
// naming it, before backup.Backup copied it.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/backup"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/inmemory"
	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/internal/regtest"
	"github.com/regbackup/regbackup/progress"
	"github.com/regbackup/regbackup/snapshot"
)

// vanishDriver deletes the blob victim the first time, once armed, Reader
// is called for any blob's data: the moment backup.Backup starts copying blobs.
type vanishDriver struct {
	*inmemory.Driver
	victim    string
	armed     atomic.Bool
	once      sync.Once
	fired     atomic.Bool
	deleteErr error
}

func (d *vanishDriver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if d.armed.Load() && archive.ParsePath(p).Kind == archive.KindBlob {
		d.once.Do(func() {
			d.deleteErr = d.Driver.Delete(ctx, archive.BlobPath(d.victim))
			d.fired.Store(true)
		})
	}
	return d.Driver.Reader(ctx, p)
}

func TestVanishAfterSnapshot(t *testing.T) {
	for _, c := range []struct {
		name string
		pick func(t *testing.T, d *inmemory.Driver, reg *sample.Registry) string
	}{
		{"layer", func(t *testing.T, d *inmemory.Driver, reg *sample.Registry) string {
			// The blob of the first _layers link: a config or layer.
			var victim string
			d.Walk(t.Context(), archive.RegistryRoot+"repositories/", func(fi drivers.FileInfo) error {
				if p := archive.ParsePath(fi.Path); p.Kind == archive.KindLayerLink && victim == "" {
					victim = p.Digest
				}
				return nil
			})
			return victim
		}},
		{"tagged-manifest", func(t *testing.T, d *inmemory.Driver, reg *sample.Registry) string {
			for _, im := range reg.Tags {
				if im.Repo == "alpha/tools" && im.Tag == "latest" {
					return im.Digest
				}
			}
			return ""
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			mem := inmemory.New()
			reg, err := sample.Generate(ctx, mem, sample.Options{Seed: 11})
			if err != nil {
				t.Fatal(err)
			}
			victim := c.pick(t, mem, reg)
			if victim == "" {
				t.Fatal("no victim blob found")
			}
			named := regtest.LinksTo(t, mem, victim)
			if len(named) == 0 {
				t.Fatalf("no link names %s", victim)
			}
			d := &vanishDriver{Driver: mem, victim: victim}
			prog := &progress.Progress{Phase: func(name, _ string) {
				if name == "blobs" {
					d.armed.Store(true)
				}
			}}

			var out bytes.Buffer
			_, err = backup.Backup(ctx, d, &out, backup.Options{Compression: archive.Zstd, Concurrency: 4, Progress: prog})
			if !d.fired.Load() || d.deleteErr != nil {
				t.Fatalf("the test driver did not delete %s during the blob copy (fired %v, err %v)", victim, d.fired.Load(), d.deleteErr)
			}
			if !errors.Is(err, snapshot.ErrDamagedSource) {
				t.Fatalf("Backup returned %v, want an error wrapping snapshot.ErrDamagedSource", err)
			}
			t.Logf("Backup: %v", err)

			ar, err := archive.NewReader(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatalf("archive does not open: %v", err)
			}
			defer ar.Close()
			for {
				e, err := ar.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("archive does not verify: %v", err)
				}
				switch {
				case e.Path.Kind == archive.KindBlob && e.Path.Digest == victim:
					t.Errorf("archive holds an entry for the vanished blob %s", victim)
				case e.Path.Kind.IsLink() && (e.Link == victim || e.Path.Digest == victim):
					t.Errorf("archive holds link %s -> %s, the vanished blob", e.Name, e.Link)
				}
			}
			tr := ar.Trailer()
			missing := false
			for _, x := range tr.Missing {
				missing = missing || x.Digest == victim
			}
			if !missing {
				t.Errorf("trailer does not list %s as missing: %+v", victim, tr.Missing)
			}
			dropped := strings.Join(tr.DroppedLinks, "\n")
			for _, p := range named {
				if !strings.Contains(dropped, p) {
					t.Errorf("trailer does not list the link %s as dropped", p)
				}
			}
		})
	}
}
