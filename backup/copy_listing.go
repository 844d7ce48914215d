package backup

import (
	"context"
	"fmt"

	"github.com/regbackup/regbackup/drivers"
)

// listing is the files under a prefix of a copy's target, with their
// sizes, listed in the background while the snapshot of the source is
// taken. Copy lists an object store's target (drivers.ConcurrencyHinter):
// a listing page names a thousand files where a Stat or a read asks about
// one, so that a copy with nothing new to do finishes in a few requests.
// A nil *listing stands for a target that is not listed: callers then ask
// file by file.
type listing struct {
	files map[string]int64
	err   error
	done  chan struct{}
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

// wait returns the listing once complete: nil (no error) for a nil l.
func (l *listing) wait(ctx context.Context) (map[string]int64, error) {
	if l == nil {
		return nil, nil
	}
	select {
	case <-l.done:
		return l.files, l.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
