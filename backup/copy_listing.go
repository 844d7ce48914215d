package backup

import (
	"context"
	"fmt"
	"sync"

	"github.com/regbackup/regbackup/drivers"
)

// listing is what a copy learns about its target in the background, so
// that a copy with nothing new to do finishes in a few requests: the files
// under a prefix, with their sizes (startListing), or the content of some
// small files (startReading). Copy lists an object store's target
// (drivers.ConcurrencyHinter), where a listing page names a thousand files
// and a Stat or a read asks about one, while the snapshot of the source is
// being taken. The copy holds the target's lock and writes no link before
// it compares, so what was learnt stays true unless someone else writes
// there. A nil *listing stands for nothing learnt: callers then ask file
// by file.
type listing struct {
	files   map[string]int64  // startListing
	content map[string]string // startReading: the files that could be read
	err     error
	done    chan struct{}
}

// startListing lists prefix of d in a goroutine; what names the files in
// an error.
func startListing(ctx context.Context, d drivers.Driver, prefix, what string) *listing {
	l := &listing{files: map[string]int64{}, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		err := d.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
			l.files[fi.Path] = fi.Size
			return nil
		})
		if err != nil {
			l.err = fmt.Errorf("listing %s at the target: %w", what, err)
		}
	}()
	return l
}

// startReading reads the files at paths of d, each of at most maxLinkSize
// bytes, n at a time, in a goroutine. A file missing or unreadable is left
// out: the caller asks again.
func startReading(ctx context.Context, d drivers.Driver, paths []string, n int) *listing {
	l := &listing{content: map[string]string{}, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		var mu sync.Mutex
		l.err = forEach(ctx, n, paths, func(ctx context.Context, p string) error {
			if data, err := readSmall(ctx, d, p, maxLinkSize); err == nil {
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
