package drivertest

import (
	"context"
	"errors"
	"testing"
)

const victim = "docker/registry/v2/repositories/a/_manifests/revisions/sha256/abcd/link"

// testShortReader: size says 100, the reader gives 50; nothing is stored.
func testShortReader(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	err := d.Put(t.Context(), victim, &chunkReader{data: randomBytes(1, 50)}, 100)
	if err == nil {
		t.Fatalf("%s: Put of 50 bytes with size 100 succeeded, want an error", d)
	}
	checkGone(t, d, victim)
	checkEmpty(t, d)
}

// testLongReader: size says 50, the reader gives 100; nothing is stored and
// an earlier file stays.
func testLongReader(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	err := d.Put(t.Context(), victim, &chunkReader{data: randomBytes(1, 100)}, 50)
	if err == nil {
		t.Fatalf("%s: Put of 100 bytes with size 50 succeeded, want an error", d)
	}
	checkGone(t, d, victim)
	checkEmpty(t, d)
	old := link(1)
	put(t, d, victim, old)
	if err := d.Put(t.Context(), victim, &chunkReader{data: randomBytes(1, 100)}, 71); err == nil {
		t.Fatalf("%s: Put of 100 bytes with size 71 over an existing file succeeded, want an error", d)
	}
	checkContent(t, d, victim, old)
}

// testFailingReader: the reader fails part-way; Put returns its error, stores
// nothing and leaves the earlier content intact.
func testFailingReader(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	boom := errors.New("reader exploded")
	for _, size := range []int64{3 << 20, -1} {
		err := d.Put(t.Context(), victim, &chunkReader{data: randomBytes(1, 2<<20), err: boom}, size)
		if !errors.Is(err, boom) {
			t.Fatalf("%s: Put (size %d) with a reader failing after 2 MiB = %v, want an error wrapping %q", d, size, err, boom)
		}
		checkGone(t, d, victim)
		checkEmpty(t, d)
	}
	old := randomBytes(2, 1<<20)
	put(t, d, victim, old)
	err := d.Put(t.Context(), victim, &chunkReader{data: randomBytes(3, 2<<20), err: boom}, 3<<20)
	if !errors.Is(err, boom) {
		t.Fatalf("%s: Put over an existing file with a failing reader = %v, want an error wrapping %q", d, err, boom)
	}
	checkContent(t, d, victim, old)
	if got := walkPaths(t, d, ""); len(got) != 1 {
		t.Fatalf("%s: after a failed Put over %q, Walk(\"\") = %q, want only that file", d, victim, got)
	}
}

// testCancelDuringPut cancels ctx after 1 MiB of 4 MiB has been read; Put
// fails with context.Canceled, stores nothing and keeps earlier content.
func testCancelDuringPut(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	try := func(size int64) error {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		r := &chunkReader{data: randomBytes(4, 4<<20), offset: 1 << 20, atOffset: cancel}
		return d.Put(ctx, victim, r, size)
	}
	for _, size := range []int64{4 << 20, -1} {
		if err := try(size); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: Put (size %d) cancelled part-way = %v, want an error wrapping context.Canceled", d, size, err)
		}
		checkGone(t, d, victim)
		checkEmpty(t, d)
	}
	old := link(4)
	put(t, d, victim, old)
	if err := try(4 << 20); !errors.Is(err, context.Canceled) {
		t.Fatalf("%s: Put over an existing file cancelled part-way = %v, want an error wrapping context.Canceled", d, err)
	}
	checkContent(t, d, victim, old)
}

// testCancelledBeforePut: a ctx cancelled before Put stores nothing.
func testCancelledBeforePut(t *testing.T, newDriver Factory) {
	d := fresh(t, newDriver)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := d.Put(ctx, victim, &chunkReader{data: link(5)}, 71); !errors.Is(err, context.Canceled) {
		t.Fatalf("%s: Put with a cancelled ctx = %v, want an error wrapping context.Canceled", d, err)
	}
	checkGone(t, d, victim)
	checkEmpty(t, d)
}
