package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
)

// testIODelayEnv slows every blob read and write by a fixed delay, so that
// tests can watch progress output on a small registry. Not for users.
const testIODelayEnv = "REGBACKUP_TEST_IO_DELAY"

// throttled wraps d when REGBACKUP_TEST_IO_DELAY is set, else returns d.
//
// A test hook must not change what runs: the wrapper has exactly the
// optional interfaces d has (drivers.Syncer, ConcurrencyHinter, Copier,
// StorageConfiger, and the filesystem's WalkRead), each passed through,
// and unwraps (drivers.Wrapper) so that a Copier given it as its source
// sees the driver inside. A driver with a set of optional interfaces no
// wrapper below has is an error, not a silently different run.
func throttled(d drivers.Driver) (drivers.Driver, error) {
	delay, err := time.ParseDuration(os.Getenv(testIODelayEnv))
	if err != nil || delay <= 0 {
		return d, nil
	}
	s := &slowDriver{Driver: d, delay: delay}
	switch features(d) {
	case 0:
		return s, nil
	case fSyncer | fStorageConfig | fWalkRead: // filesystem
		return &slowFolder{s}, nil
	case fConcurrency | fCopier | fStorageConfig: // s3, gcs, azure
		return &slowObjects{s}, nil
	case fConcurrency | fStorageConfig: // swift
		return &slowRemote{s}, nil
	}
	return nil, fmt.Errorf("%s: no test wrapper for %s with optional interfaces %b", testIODelayEnv, d.Name(), features(d))
}

// walkReader is the filesystem's WalkRead, which the snapshot uses when a
// driver has it.
type walkReader interface {
	WalkRead(ctx context.Context, prefix string, limit int64, fn func(fi drivers.FileInfo, data []byte) error) error
}

// The optional interfaces, as bits.
const (
	fSyncer = 1 << iota
	fConcurrency
	fCopier
	fStorageConfig
	fWalkRead
)

// features is the set of optional interfaces d has.
func features(d drivers.Driver) int {
	f := 0
	if _, ok := d.(drivers.Syncer); ok {
		f |= fSyncer
	}
	if _, ok := d.(drivers.ConcurrencyHinter); ok {
		f |= fConcurrency
	}
	if _, ok := d.(drivers.Copier); ok {
		f |= fCopier
	}
	if _, ok := d.(drivers.StorageConfiger); ok {
		f |= fStorageConfig
	}
	if _, ok := d.(walkReader); ok {
		f |= fWalkRead
	}
	return f
}

// slowDriver sleeps before every blob Reader and Put, and pauses once
// inside each blob Put; it has no optional interface of its own.
type slowDriver struct {
	drivers.Driver
	delay time.Duration
}

// Unwrap returns the driver slowed down.
func (s *slowDriver) Unwrap() drivers.Driver { return s.Driver }

// wait delays blob reads and writes only: the snapshot stays fast.
func (s *slowDriver) wait(ctx context.Context, p string) error {
	if archive.ParsePath(p).Kind != archive.KindBlob {
		return nil
	}
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *slowDriver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := s.wait(ctx, p); err != nil {
		return nil, err
	}
	return s.Driver.Reader(ctx, p)
}

// Put waits, then writes a blob with a pause of the same length before its
// end: the driver's temp file or multipart upload then exists for a while,
// as it does for a big blob on a slow disk, and a test's kill can land
// while it does.
func (s *slowDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := s.wait(ctx, p); err != nil {
		return err
	}
	if archive.ParsePath(p).Kind == archive.KindBlob {
		r = &pauseAtEOF{r: r, ctx: ctx, delay: s.delay}
	}
	return s.Driver.Put(ctx, p, r, size)
}

// pauseAtEOF is r with one pause before it reports io.EOF.
type pauseAtEOF struct {
	r      io.Reader
	ctx    context.Context
	delay  time.Duration
	paused bool
}

func (p *pauseAtEOF) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err == io.EOF && !p.paused {
		p.paused = true
		select {
		case <-time.After(p.delay):
		case <-p.ctx.Done():
			return n, p.ctx.Err()
		}
	}
	return n, err
}

// The pass-throughs of the optional interfaces.
func (s *slowDriver) sync(ctx context.Context) error { return s.Driver.(drivers.Syncer).Sync(ctx) }
func (s *slowDriver) concurrency() int {
	return s.Driver.(drivers.ConcurrencyHinter).DefaultConcurrency()
}
func (s *slowDriver) copyFrom(ctx context.Context, dst string, src drivers.Driver, srcPath string) error {
	if err := s.wait(ctx, dst); err != nil {
		return err
	}
	return s.Driver.(drivers.Copier).CopyFrom(ctx, dst, src, srcPath)
}
func (s *slowDriver) storageConfig() (string, map[string]any) {
	return s.Driver.(drivers.StorageConfiger).StorageConfig()
}
func (s *slowDriver) walkRead(ctx context.Context, prefix string, limit int64, fn func(drivers.FileInfo, []byte) error) error {
	return s.Driver.(walkReader).WalkRead(ctx, prefix, limit, fn)
}

// slowFolder is a slowed filesystem: Syncer, StorageConfiger, WalkRead.
type slowFolder struct{ *slowDriver }

func (s *slowFolder) Sync(ctx context.Context) error          { return s.sync(ctx) }
func (s *slowFolder) StorageConfig() (string, map[string]any) { return s.storageConfig() }
func (s *slowFolder) WalkRead(ctx context.Context, prefix string, limit int64, fn func(drivers.FileInfo, []byte) error) error {
	return s.walkRead(ctx, prefix, limit, fn)
}

// slowObjects is a slowed object store: ConcurrencyHinter, Copier,
// StorageConfiger.
type slowObjects struct{ *slowDriver }

func (s *slowObjects) DefaultConcurrency() int                 { return s.concurrency() }
func (s *slowObjects) StorageConfig() (string, map[string]any) { return s.storageConfig() }
func (s *slowObjects) CopyFrom(ctx context.Context, dst string, src drivers.Driver, srcPath string) error {
	return s.copyFrom(ctx, dst, src, srcPath)
}

// slowRemote is a slowed remote store without server-side copies
// (Swift): ConcurrencyHinter, StorageConfiger.
type slowRemote struct{ *slowDriver }

func (s *slowRemote) DefaultConcurrency() int                 { return s.concurrency() }
func (s *slowRemote) StorageConfig() (string, map[string]any) { return s.storageConfig() }
