package blobio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/regbackup/regbackup/drivers"
	_ "github.com/regbackup/regbackup/drivers/inmemory"
)

// ReadSmall gives a file whole up to its limit, then the first limit bytes
// and ErrTooLarge, on both sides of its pooled buffer's size.
func TestReadSmallSizes(t *testing.T) {
	ctx := t.Context()
	d, err := drivers.Open(ctx, "inmemory://")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ size, limit int }{
		{0, 10}, {1, 10}, {10, 10}, {11, 10}, {1000, 10},
		{smallBufSize - 1, 4 << 20}, {smallBufSize, 4 << 20}, {smallBufSize + 1, 4 << 20}, {3 * smallBufSize, 4 << 20},
		{smallBufSize, smallBufSize - 1}, {smallBufSize + 1, smallBufSize}, {smallBufSize + 2, smallBufSize},
		{3 * smallBufSize, 2 * smallBufSize},
	} {
		content := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
		p := fmt.Sprintf("f-%d-%d", tc.size, tc.limit)
		if err := d.Put(ctx, p, bytes.NewReader(content), int64(len(content))); err != nil {
			t.Fatal(err)
		}
		got, err := ReadSmall(ctx, d, p, int64(tc.limit))
		want := content
		if tc.size > tc.limit {
			want = content[:tc.limit]
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("%d bytes, limit %d: err = %v, want ErrTooLarge", tc.size, tc.limit, err)
			}
		} else if err != nil {
			t.Errorf("%d bytes, limit %d: %v", tc.size, tc.limit, err)
		}
		if !bytes.Equal(got, want) || got == nil {
			t.Errorf("%d bytes, limit %d: got %d bytes (nil: %v), want %d", tc.size, tc.limit, len(got), got == nil, len(want))
		}
	}
	if _, err := ReadSmall(ctx, d, "missing", 10); !errors.Is(err, drivers.ErrNotFound) {
		t.Errorf("missing file: err = %v, want ErrNotFound", err)
	}
}
