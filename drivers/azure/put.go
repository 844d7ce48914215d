package azure

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/putio"
)

// contentType is what the registry's own drivers write.
const contentType = "application/octet-stream"

// errLong reports a reader that gave more than the announced size.
var errLong = errors.New("reader gave more bytes than the expected size")

// Put stores all of r at p, replacing any earlier blob, only once r ended
// (io.EOF) at exactly size bytes (any length when size is -1).
//
// A reader that is also an io.ReaderAt and io.Seeker (a buffer already
// verified, as a restore passes for small blobs) is sent without copying:
// from its current position to its end, which must be size bytes, as
// checked by seeking first. Its read errors fail the Put.
//
// Up to BlockSize bytes go up in one request. Larger files are staged as
// blocks, up to 4 at once, and made visible by one final commit; a reader
// error, a size mismatch or a cancelled ctx skips the commit, so nothing
// changes (staged blocks stay invisible until Azure discards them). Buffers
// come from the Driver's shared budget (Config.BufferMemory). Concurrent
// large Puts to one path can make each other's commit fail (a commit drops
// the other's staged blocks); the blob then holds one of them, whole.
func (d *Driver) Put(ctx context.Context, p string, r io.Reader, size int64) error {
	if err := drivers.CheckPath(p); err != nil {
		return d.invalidPath("put", p, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: put %s: %w", driverName, p, err)
	}
	bs := d.cfg.BlockSize
	if size > bs*maxBlocks {
		return fmt.Errorf("%s: put %s: %d bytes need more than %d blocks of %d bytes: use a larger block size",
			driverName, p, size, maxBlocks, bs)
	}
	if ra, ok := r.(readerAtSeeker); ok && size >= 0 {
		return d.putReaderAt(ctx, p, ra, size)
	}
	first := bs
	if size >= 0 && size < bs {
		first = size
	}
	buf, err := d.mem.Get(ctx, int(first))
	if err != nil {
		return d.putErr(ctx, p, err)
	}
	n, eof, err := putio.Fill(ctx, r, buf)
	if err == nil && (eof || int64(n) == size) {
		err = checkEnd(ctx, r, int64(n), size, eof)
		if err == nil {
			err = d.upload(ctx, p, bytes.NewReader(buf[:n]))
		}
	} else if err == nil {
		return d.putBlocks(ctx, p, r, size, buf)
	}
	d.mem.Put(buf)
	if err != nil {
		return d.putErr(ctx, p, err)
	}
	return nil
}

// md5Limit is the largest file Put gives a Content-MD5 it computes itself
// (link files, small manifests), so that a listing reports it on any
// Azure-compatible service, whether or not the service computes one for a
// single-request upload (Azure and Azurite do). Larger ones are left to
// the service, to spare a restore a second pass over every blob.
const md5Limit = 64 << 10

// upload stores body (read from its start) in one request. A blob of
// another type (an AppendBlob) at the name is deleted first, as the
// registry does.
func (d *Driver) upload(ctx context.Context, p string, body io.ReadSeeker) error {
	name := d.blobName(p)
	bb := d.c.NewBlockBlobClient(name)
	headers := &blob.HTTPHeaders{BlobContentType: to.Ptr(contentType)}
	if sum, err := smallMD5(body); err != nil {
		return d.putErr(ctx, p, err)
	} else if sum != nil {
		headers.BlobContentMD5 = sum
	}
	opts := &blockblob.UploadOptions{HTTPHeaders: headers}
	_, err := bb.Upload(ctx, streaming.NopCloser(body), opts)
	if bloberror.HasCode(err, bloberror.InvalidBlobType) {
		if _, derr := d.c.NewBlobClient(name).Delete(ctx, nil); derr != nil && !isNotFound(derr) {
			return d.opErr(ctx, "put", p, derr)
		}
		if _, err = body.Seek(0, io.SeekStart); err == nil {
			_, err = bb.Upload(ctx, streaming.NopCloser(body), opts)
		}
	}
	if err != nil {
		return d.opErr(ctx, "put", p, err)
	}
	return nil
}

// putBlocks stages first (a full block) and the rest of r as blocks, then
// commits them if r ended at size. It returns first to the budget.
func (d *Driver) putBlocks(parent context.Context, p string, r io.Reader, size int64, first []byte) error {
	name := d.blobName(p)
	bb := d.c.NewBlockBlobClient(name)
	if err := d.replaceOtherType(parent, p); err != nil {
		d.mem.Put(first)
		return err
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		nonce    = newNonce()
		ids      []string
		total    int64
		wg       sync.WaitGroup
		slots    = make(chan struct{}, blocksInFlight)
		mu       sync.Mutex
		stageErr error
		readErr  error
	)
	stage := func(id string, b []byte, n int) {
		defer wg.Done()
		defer func() { <-slots }()
		defer d.mem.Put(b)
		if _, err := bb.StageBlock(ctx, id, streaming.NopCloser(bytes.NewReader(b[:n])), nil); err != nil {
			mu.Lock()
			if stageErr == nil {
				stageErr = err
			}
			mu.Unlock()
			cancel()
		}
	}
	buf, n, eof := first, len(first), false
	for {
		if n > 0 && len(ids) == maxBlocks {
			readErr = fmt.Errorf("more than %d blocks of %d bytes: use a larger block size", maxBlocks, d.cfg.BlockSize)
		}
		if n == 0 || readErr != nil {
			d.mem.Put(buf)
		} else {
			id := blockID(nonce, len(ids))
			ids = append(ids, id)
			total += int64(n)
			select {
			case slots <- struct{}{}:
				wg.Add(1)
				go stage(id, buf, n)
			case <-ctx.Done():
				d.mem.Put(buf)
			}
		}
		if eof || readErr != nil || ctx.Err() != nil {
			break
		}
		if size >= 0 && total == size {
			readErr = checkEnd(ctx, r, total, size, false)
			break
		}
		next := d.cfg.BlockSize
		if size >= 0 {
			next = min(next, size-total)
		}
		var err error
		if buf, err = d.mem.Get(ctx, int(next)); err != nil {
			break // ctx ended
		}
		if n, eof, err = putio.Fill(ctx, r, buf); err != nil {
			d.mem.Put(buf)
			readErr = err
			break
		}
		if eof && size >= 0 && total+int64(n) != size {
			d.mem.Put(buf)
			readErr = checkEnd(ctx, r, total+int64(n), size, true)
			break
		}
	}
	wg.Wait()
	switch {
	case parent.Err() != nil:
		return d.putErr(parent, p, parent.Err())
	case readErr != nil && !errors.Is(readErr, context.Canceled):
		return d.putErr(parent, p, readErr)
	case stageErr != nil: // it cancelled ctx, which may have ended the read
		return d.opErr(parent, "put", p, stageErr)
	case readErr != nil:
		return d.putErr(parent, p, readErr)
	}
	_, err := bb.CommitBlockList(parent, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: to.Ptr(contentType)},
	})
	if err != nil {
		return d.opErr(parent, "put", p, err)
	}
	return nil
}

// replaceOtherType deletes the blob at p when it exists and is not a
// BlockBlob (blocks cannot be staged on it). This is the one Put that is not
// atomic; the registry replaces such blobs the same way.
func (d *Driver) replaceOtherType(ctx context.Context, p string) error {
	bc := d.c.NewBlobClient(d.blobName(p))
	props, err := bc.GetProperties(ctx, nil)
	switch {
	case isNotFound(err):
		return nil
	case err != nil:
		return d.opErr(ctx, "put", p, err)
	case props.BlobType == nil || *props.BlobType == blob.BlobTypeBlockBlob:
		return nil
	}
	if _, err := bc.Delete(ctx, nil); err != nil && !isNotFound(err) {
		return d.opErr(ctx, "put", p, err)
	}
	return nil
}

// putErr wraps a failure that is not the service's: the reader's own error
// (kept for errors.Is), a size mismatch, or the context's.
func (d *Driver) putErr(ctx context.Context, p string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: put %s/%s: %w", driverName, d.cfg.Container, d.blobName(p), cerr)
	}
	return fmt.Errorf("%s: put %s/%s: %w", driverName, d.cfg.Container, d.blobName(p), err)
}

// checkEnd checks that r, having given got bytes, is at its end and that
// got is the expected size (when size >= 0). eof says r already returned
// io.EOF.
func checkEnd(ctx context.Context, r io.Reader, got, size int64, eof bool) error {
	if size >= 0 && got < size {
		return fmt.Errorf("reader gave %d bytes, expected %d: %w", got, size, io.ErrUnexpectedEOF)
	}
	var probe [1]byte
	for !eof {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := r.Read(probe[:])
		switch {
		case k > 0:
			return fmt.Errorf("%w (%d)", errLong, size)
		case err == io.EOF:
			eof = true
		case err != nil:
			return err
		}
	}
	return nil
}

// newNonce makes the block ids of one Put unlike any other Put's.
func newNonce() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// blockID is the i-th block id of a Put; all ids of a blob have one length.
func blockID(nonce string, i int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s-%06d", nonce, i))
}

// smallMD5 returns the MD5 of body when it holds at most md5Limit bytes,
// else nil, and leaves body at its start.
func smallMD5(body io.ReadSeeker) ([]byte, error) {
	size, err := body.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil || size > md5Limit {
		return nil, err
	}
	h := md5.New()
	if _, err := io.Copy(h, body); err != nil {
		return nil, err
	}
	_, err = body.Seek(0, io.SeekStart)
	return h.Sum(nil), err
}
