package azure

import (
	"context"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// stageAndCommit stages size bytes as blocks of bs bytes, blocksInFlight
// at once, each with stage(ctx, id, off, n), and commits them to bb (as
// application/octet-stream) only when every block was staged. It returns
// the first stage error (others that only follow from its cancelling are
// dropped), ctx's error, or the commit's, unwrapped; the blocks of a
// failed call stay invisible until Azure discards them.
func stageAndCommit(ctx context.Context, bb *blockblob.Client, size, bs int64,
	stage func(ctx context.Context, id string, off, n int64) error) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		nonce = newNonce()
		ids   []string
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		slots = make(chan struct{}, blocksInFlight)
	)
	for off := int64(0); off < size && sctx.Err() == nil; off += bs {
		select {
		case slots <- struct{}{}:
		case <-sctx.Done():
			continue
		}
		id := blockID(nonce, len(ids))
		ids = append(ids, id)
		n := min(bs, size-off)
		wg.Go(func() {
			defer func() { <-slots }()
			if err := stage(sctx, id, off, n); err != nil {
				mu.Lock()
				if first == nil && sctx.Err() == nil {
					first = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	switch {
	case first != nil:
		return first
	case ctx.Err() != nil:
		return ctx.Err()
	}
	_, err := bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(contentType)},
	})
	return err
}
