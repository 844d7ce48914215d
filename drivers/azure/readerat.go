package azure

import (
	"context"
	"fmt"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/regbackup/regbackup/drivers/internal/putio"
)

// readerAtSeeker is a reader Put can send without copying it into
// buffers: *bytes.Reader, *io.SectionReader, *os.File.
type readerAtSeeker interface {
	io.ReaderAt
	io.Seeker
}

// putReaderAt stores size bytes of r from its current position: in one
// request up to BlockSize, else as blocks staged from sections of r (up to
// 4 at once) and one commit. Nothing is sent unless r holds exactly size
// bytes from its position to its end.
func (d *Driver) putReaderAt(ctx context.Context, p string, r readerAtSeeker, size int64) error {
	start, n, err := putio.Remaining(r)
	switch {
	case err != nil:
		return d.putErr(ctx, p, err)
	case n < size:
		return d.putErr(ctx, p, fmt.Errorf("reader holds %d bytes, expected %d: %w", n, size, io.ErrUnexpectedEOF))
	case n > size:
		return d.putErr(ctx, p, fmt.Errorf("%w (%d): it holds %d", errLong, size, n))
	}
	bs := d.cfg.BlockSize
	if size <= bs {
		return d.upload(ctx, p, io.NewSectionReader(r, start, size))
	}
	if err := d.replaceOtherType(ctx, p); err != nil {
		return err
	}
	bb := d.c.NewBlockBlobClient(d.blobName(p))
	err = stageAndCommit(ctx, bb, size, bs, func(ctx context.Context, id string, off, n int64) error {
		_, err := bb.StageBlock(ctx, id, streaming.NopCloser(io.NewSectionReader(r, start+off, n)), nil)
		return err
	})
	if err != nil {
		return d.opErr(ctx, "put", p, err)
	}
	return nil
}
