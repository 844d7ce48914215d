package regtest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
)

// LatencyDriver makes every request wait, as an object store's round trip
// does, and records how many of each kind were in flight at once. Fail,
// when set, may fail a Put (the nth of the driver) before it reaches the
// wrapped driver.
type LatencyDriver struct {
	drivers.Driver
	Delay time.Duration
	Hint  int // DefaultConcurrency's answer; 0: none, like a local disk
	Fail  func(p string, n int) error
	// MD5, when set, makes Walk report MD5(path, content) as each file's
	// MD5, as an object store's listing does (the content read uncounted).
	MD5 func(p string, content []byte) string

	mu       sync.Mutex
	inFlight map[string]int
	maxIn    map[string]int
	calls    map[string]int
}

var (
	_ drivers.Driver            = (*LatencyDriver)(nil)
	_ drivers.ConcurrencyHinter = (*LatencyDriver)(nil)
)

// NewLatency wraps d so that every request waits delay.
func NewLatency(d drivers.Driver, delay time.Duration) *LatencyDriver {
	return &LatencyDriver{Driver: d, Delay: delay, inFlight: map[string]int{}, maxIn: map[string]int{}, calls: map[string]int{}}
}

func (l *LatencyDriver) DefaultConcurrency() int { return l.Hint }

// enter counts one op in flight and waits out the latency; leave ends it.
// It returns the op's sequence number (1 for the first of its kind).
func (l *LatencyDriver) enter(ctx context.Context, op string) (int, error) {
	l.mu.Lock()
	l.calls[op]++
	n := l.calls[op]
	l.inFlight[op]++
	l.maxIn[op] = max(l.maxIn[op], l.inFlight[op])
	l.mu.Unlock()
	select {
	case <-time.After(l.Delay):
		return n, nil
	case <-ctx.Done():
		return n, fmt.Errorf("latency: %s: %w", op, ctx.Err())
	}
}

func (l *LatencyDriver) leave(op string) {
	l.mu.Lock()
	l.inFlight[op]--
	l.mu.Unlock()
}

// Stats returns the most ops of kind op ever in flight at once, and how
// many were called.
func (l *LatencyDriver) Stats(op string) (maxIn, calls int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxIn[op], l.calls[op]
}

// Requests returns how many Stats, reads and Puts were called.
func (l *LatencyDriver) Requests() (stats, reads, puts int) {
	_, stats = l.Stats("stat")
	_, reads = l.Stats("read")
	_, puts = l.Stats("put")
	return stats, reads, puts
}

func (l *LatencyDriver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	defer l.leave("stat")
	if _, err := l.enter(ctx, "stat"); err != nil {
		return drivers.FileInfo{}, err
	}
	return l.Driver.Stat(ctx, p)
}

func (l *LatencyDriver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	defer l.leave("read")
	if _, err := l.enter(ctx, "read"); err != nil {
		return nil, err
	}
	return l.Driver.Reader(ctx, p)
}

func (l *LatencyDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	defer l.leave("put")
	n, err := l.enter(ctx, "put")
	if err != nil {
		return err
	}
	if l.Fail != nil {
		if err := l.Fail(p, n); err != nil {
			return err
		}
	}
	return l.Driver.Put(ctx, p, r, size)
}

func (l *LatencyDriver) Delete(ctx context.Context, p string) error {
	defer l.leave("delete")
	if _, err := l.enter(ctx, "delete"); err != nil {
		return err
	}
	return l.Driver.Delete(ctx, p)
}

func (l *LatencyDriver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	defer l.leave("walk")
	if _, err := l.enter(ctx, "walk"); err != nil {
		return err
	}
	if l.MD5 == nil {
		return l.Driver.Walk(ctx, prefix, fn)
	}
	return l.Driver.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
		data, err := blobio.ReadSmall(ctx, l.Driver, fi.Path, 1<<30)
		if err != nil {
			return err
		}
		fi.MD5 = l.MD5(fi.Path, data)
		return fn(fi)
	})
}
