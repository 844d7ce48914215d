package azure

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

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
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		nonce    = newNonce()
		ids      []string
		wg       sync.WaitGroup
		slots    = make(chan struct{}, blocksInFlight)
		once     sync.Once
		stageErr error
	)
	for off := int64(0); off < size && sctx.Err() == nil; off += bs {
		id := blockID(nonce, len(ids))
		ids = append(ids, id)
		section := io.NewSectionReader(r, start+off, min(bs, size-off))
		select {
		case slots <- struct{}{}:
		case <-sctx.Done():
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if _, err := bb.StageBlock(sctx, id, streaming.NopCloser(section), nil); err != nil {
				once.Do(func() { stageErr = err; cancel() })
			}
		})
	}
	wg.Wait()
	switch {
	case ctx.Err() != nil:
		return d.putErr(ctx, p, ctx.Err())
	case stageErr != nil:
		return d.opErr(ctx, "put", p, stageErr)
	}
	_, err = bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(contentType)},
	})
	if err != nil {
		return d.opErr(ctx, "put", p, err)
	}
	return nil
}
