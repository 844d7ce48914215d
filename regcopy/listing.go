package regcopy

import (
	"context"
	"fmt"
	"sync"

	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/linkwriter"
	"github.com/regbackup/regbackup/parallel"
	"github.com/regbackup/regbackup/snapshot"
)

// listing is what a copy learns about its target in the background, so
// that a copy with nothing new to do finishes in a few requests: the files
// under a prefix, with their sizes and MD5s (startListing), or the content
// of the small files a listing cannot vouch for (startReading). Copy lists an object store's target
// (drivers.ConcurrencyHinter), where a listing page names a thousand files
// and a Stat or a read asks about one, while the snapshot of the source is
// being taken. The copy holds the target's lock and writes no link before
// it compares, so what was learnt stays true unless someone else writes
// there. A nil *listing stands for nothing learnt: callers then ask file
// by file.
type listing struct {
	files   map[string]linkwriter.Listed // startListing
	content map[string]string            // startReading: the files that could be read
	err     error
	done    chan struct{}
}

// startListing lists prefix of d in a goroutine; what names the files in
// an error.
func startListing(ctx context.Context, d drivers.Driver, prefix, what string) *listing {
	l := &listing{files: map[string]linkwriter.Listed{}, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		err := d.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
			l.files[fi.Path] = linkwriter.Listed{Size: fi.Size, MD5: fi.MD5}
			return nil
		})
		if err != nil {
			l.err = fmt.Errorf("listing %s at the target: %w", what, err)
		}
	}()
	return l
}

// startReading reads, in a goroutine, the link files of d that links (a
// listing of them) cannot vouch for: of want, the paths it lists without
// an MD5 equal to that of the content wanted there (none reported, a
// moved tag, a damaged file, or an S3 ETag that is not an MD5). Paths it
// lacks are not read: they are missing. It starts once links is complete,
// then reads n at a time, each file of at most maxLinkSize bytes. A file
// missing or unreadable is left out: the caller asks again. A failed
// listing leaves everything out (whoever waits for links sees its error).
func startReading(ctx context.Context, d drivers.Driver, links *listing, want map[string]string, n int) *listing {
	l := &listing{content: map[string]string{}, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		if ll, err := links.wait(ctx); err != nil || ll == nil {
			return
		}
		var paths []string
		for p, content := range want {
			if f, ok := links.files[p]; ok && !f.Holds(content) {
				paths = append(paths, p)
			}
		}
		var mu sync.Mutex
		l.err = parallel.ForEach(ctx, n, paths, func(ctx context.Context, p string) error {
			if data, err := blobio.ReadSmall(ctx, d, p, snapshot.MaxLinkSize); err == nil {
				mu.Lock()
				l.content[p] = string(data)
				mu.Unlock()
			}
			return nil
		})
	}()
	return l
}

// wait waits for the listing to complete and returns it, nil for a nil l.
func (l *listing) wait(ctx context.Context) (*listing, error) {
	if l == nil {
		return nil, nil
	}
	select {
	case <-l.done:
		return l, l.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
