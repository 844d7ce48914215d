package main

import (
	"context"
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
func throttled(d drivers.Driver) drivers.Driver {
	delay, err := time.ParseDuration(os.Getenv(testIODelayEnv))
	if err != nil || delay <= 0 {
		return d
	}
	return &slowDriver{Driver: d, delay: delay}
}

// slowDriver sleeps before every blob Reader and Put.
type slowDriver struct {
	drivers.Driver
	delay time.Duration
}

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

func (s *slowDriver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := s.wait(ctx, p); err != nil {
		return err
	}
	return s.Driver.Put(ctx, p, r, size)
}

// Sync passes through, so a restore still orders its writes.
func (s *slowDriver) Sync(ctx context.Context) error {
	if sy, ok := s.Driver.(drivers.Syncer); ok {
		return sy.Sync(ctx)
	}
	return nil
}
