package backup

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/regbackup/regbackup/drivers"
)

// latencyDriver makes every request wait, as an object store's round trip
// does, and records how many of each kind were in flight at once. fail,
// when set, may fail a Put before it reaches the wrapped driver.
type latencyDriver struct {
	drivers.Driver
	delay time.Duration
	hint  int // DefaultConcurrency's answer; 0: none, like a local disk
	fail  func(p string, n int) error
	// md5, when set, makes Walk report md5(path, content) as each file's
	// MD5, as an object store's listing does (the content read uncounted).
	md5 func(p string, content []byte) string

	mu       sync.Mutex
	inFlight map[string]int
	maxIn    map[string]int
	calls    map[string]int
}

var (
	_ drivers.Driver            = (*latencyDriver)(nil)
	_ drivers.ConcurrencyHinter = (*latencyDriver)(nil)
)

func newLatency(d drivers.Driver, delay time.Duration) *latencyDriver {
	return &latencyDriver{Driver: d, delay: delay, inFlight: map[string]int{}, maxIn: map[string]int{}, calls: map[string]int{}}
}

func (l *latencyDriver) DefaultConcurrency() int { return l.hint }

// enter counts one op in flight and waits out the latency; leave ends it.
// It returns the op's sequence number (1 for the first of its kind).
func (l *latencyDriver) enter(ctx context.Context, op string) (int, error) {
	l.mu.Lock()
	l.calls[op]++
	n := l.calls[op]
	l.inFlight[op]++
	l.maxIn[op] = max(l.maxIn[op], l.inFlight[op])
	l.mu.Unlock()
	select {
	case <-time.After(l.delay):
		return n, nil
	case <-ctx.Done():
		return n, fmt.Errorf("latency: %s: %w", op, ctx.Err())
	}
}

func (l *latencyDriver) leave(op string) {
	l.mu.Lock()
	l.inFlight[op]--
	l.mu.Unlock()
}

// stats returns the most ops of kind op ever in flight at once, and how
// many were called.
func (l *latencyDriver) stats(op string) (maxIn, calls int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.maxIn[op], l.calls[op]
}

// requests returns how many Stats, reads and Puts were called.
func (l *latencyDriver) requests() (stats, reads, puts int) {
	_, stats = l.stats("stat")
	_, reads = l.stats("read")
	_, puts = l.stats("put")
	return stats, reads, puts
}

func (l *latencyDriver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	defer l.leave("stat")
	if _, err := l.enter(ctx, "stat"); err != nil {
		return drivers.FileInfo{}, err
	}
	return l.Driver.Stat(ctx, p)
}

func (l *latencyDriver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	defer l.leave("read")
	if _, err := l.enter(ctx, "read"); err != nil {
		return nil, err
	}
	return l.Driver.Reader(ctx, p)
}

func (l *latencyDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	defer l.leave("put")
	n, err := l.enter(ctx, "put")
	if err != nil {
		return err
	}
	if l.fail != nil {
		if err := l.fail(p, n); err != nil {
			return err
		}
	}
	return l.Driver.Put(ctx, p, r, size)
}

func (l *latencyDriver) Delete(ctx context.Context, p string) error {
	defer l.leave("delete")
	if _, err := l.enter(ctx, "delete"); err != nil {
		return err
	}
	return l.Driver.Delete(ctx, p)
}

func (l *latencyDriver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	defer l.leave("walk")
	if _, err := l.enter(ctx, "walk"); err != nil {
		return err
	}
	if l.md5 == nil {
		return l.Driver.Walk(ctx, prefix, fn)
	}
	return l.Driver.Walk(ctx, prefix, func(fi drivers.FileInfo) error {
		data, err := readSmall(ctx, l.Driver, fi.Path, 1<<30)
		if err != nil {
			return err
		}
		fi.MD5 = l.md5(fi.Path, data)
		return fn(fi)
	})
}
