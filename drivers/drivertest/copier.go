package drivertest

import (
	"context"
	"errors"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/inmemory"
)

// PairFactory returns two fresh, empty drivers on the same storage service
// (e.g. two buckets of one server, reachable with the same credentials):
// src to copy from and dst, which must implement drivers.Copier.
type PairFactory func(t *testing.T) (src, dst drivers.Driver)

// CopierOptions tunes RunCopier for one backend.
type CopierOptions struct {
	// LargeSize is the size of the "multi-part" object: make it larger than
	// the single-request copy limit the test has set for the backend, so
	// that the multi-request copy path runs. Default 3 MiB.
	LargeSize int
}

// RunCopier checks a drivers.Copier: copies of 0 B, 1 KiB and LargeSize
// objects arrive byte for byte (replacing an earlier file, and within one
// location too); a missing source gives ErrNotFound and a source of another
// driver type ErrNoServerCopy, leaving the target as it was; a cancelled
// ctx fails and leaves the target as it was.
func RunCopier(t *testing.T, newPair PairFactory, opts CopierOptions) {
	t.Helper()
	if opts.LargeSize <= 0 {
		opts.LargeSize = 3 << 20
	}
	copier := func(t *testing.T, d drivers.Driver) drivers.Copier {
		t.Helper()
		c, ok := d.(drivers.Copier)
		if !ok {
			t.Fatalf("%s (%T) does not implement drivers.Copier", d, d)
		}
		return c
	}
	const dstPath = "docker/registry/v2/blobs/sha256/ab/copy/data"
	// refused copies srcPath of src over dstPath (which holds old) and to
	// a new file: both must fail with an error wrapping want and leave the
	// targets as they were.
	refused := func(t *testing.T, ctx context.Context, src, dst drivers.Driver, srcPath string, old []byte, want error) {
		t.Helper()
		for _, target := range []string{dstPath, "new/file"} {
			if err := copier(t, dst).CopyFrom(ctx, target, src, srcPath); !errors.Is(err, want) {
				t.Fatalf("CopyFrom(%q, %s, %q) = %v, want an error wrapping %v", target, src, srcPath, err, want)
			}
		}
		checkContent(t, dst, dstPath, old)
		checkGone(t, dst, "new/file")
	}

	t.Run("Sizes", func(t *testing.T) {
		src, dst := newPair(t)
		for i, n := range []int{0, 1024, opts.LargeSize} {
			data := randomBytes(uint64(900+i), n)
			p := blobPath(data)
			put(t, src, p, data)
			if err := copier(t, dst).CopyFrom(t.Context(), p, src, p); err != nil {
				t.Fatalf("%s: CopyFrom(%q, %s, %q) of %d bytes: %v", dst, p, src, p, n, err)
			}
			checkContent(t, dst, p, data)
			checkContent(t, src, p, data)
		}
	})

	t.Run("Replaces", func(t *testing.T) {
		src, dst := newPair(t)
		old, data := randomBytes(910, 2000), randomBytes(911, 1500)
		put(t, dst, dstPath, old)
		put(t, src, "a/b", data)
		if err := copier(t, dst).CopyFrom(t.Context(), dstPath, src, "a/b"); err != nil {
			t.Fatalf("CopyFrom over an existing file: %v", err)
		}
		checkContent(t, dst, dstPath, data)
	})

	t.Run("SameLocation", func(t *testing.T) {
		_, dst := newPair(t)
		data := randomBytes(912, 4096)
		put(t, dst, "x/src", data)
		if err := copier(t, dst).CopyFrom(t.Context(), "y/dst", dst, "x/src"); err != nil {
			t.Fatalf("CopyFrom within one location: %v", err)
		}
		checkContent(t, dst, "y/dst", data)
		checkContent(t, dst, "x/src", data)
	})

	t.Run("MissingSource", func(t *testing.T) {
		src, dst := newPair(t)
		old := randomBytes(913, 100)
		put(t, dst, dstPath, old)
		refused(t, t.Context(), src, dst, "no/such/file", old, drivers.ErrNotFound)
	})

	t.Run("OtherDriverType", func(t *testing.T) {
		_, dst := newPair(t)
		other := inmemory.New()
		data := randomBytes(914, 100)
		put(t, other, "a/b", data)
		old := randomBytes(915, 50)
		put(t, dst, dstPath, old)
		refused(t, t.Context(), other, dst, "a/b", old, drivers.ErrNoServerCopy)
	})

	t.Run("Cancelled", func(t *testing.T) {
		src, dst := newPair(t)
		data := randomBytes(916, opts.LargeSize)
		put(t, src, "big", data)
		old := randomBytes(917, 10)
		put(t, dst, dstPath, old)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		refused(t, ctx, src, dst, "big", old, context.Canceled)
	})

	t.Run("BadPaths", func(t *testing.T) {
		src, dst := newPair(t)
		put(t, src, "ok", []byte("x"))
		for _, tc := range [][2]string{{"../up", "ok"}, {"ok", "/abs"}, {"", "ok"}} {
			if err := copier(t, dst).CopyFrom(t.Context(), tc[0], src, tc[1]); !errors.Is(err, drivers.ErrInvalidPath) {
				t.Errorf("CopyFrom(%q, src, %q) = %v, want an error wrapping ErrInvalidPath", tc[0], tc[1], err)
			}
		}
		if got := walkPaths(t, dst, ""); len(got) != 0 {
			t.Errorf("bad paths wrote %q", got)
		}
	})
}
