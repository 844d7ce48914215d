package azure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.Copier = (*Driver)(nil)

// Copy limits. Variables, not constants, so that tests can stage blocks
// on a few MiB.
var (
	// fromURLLimit is the largest blob copied with one Put Blob From URL
	// (Azure's limit: 5000 MiB; the SDK documents 256 MiB as safe).
	fromURLLimit int64 = 256 << 20
	// copyBlockSize is the block size of larger copies (Put Block From
	// URL), raised when the blob would need more than 50,000 blocks.
	copyBlockSize int64 = 100 << 20
	// copySASLifetime is how long the read SAS signed for one request is valid.
	copySASLifetime = time.Hour
)

// CopyFrom copies srcPath of src to dstPath inside the storage account, so
// the bytes never pass through this process: up to 256 MiB with one Put
// Blob From URL, larger blobs as Put Block From URL blocks (4 at once)
// made visible by one Put Block List. Both are all or nothing: dstPath is
// a complete BlockBlob with Content-Type application/octet-stream, or as
// it was. Every request names the source's ETag, so a source replaced
// during the copy fails it. Either side may use 2.8's leading-slash names.
//
// The asynchronous Copy Blob (StartCopyFromURL) is not used: its target is
// visible, incomplete, while the copy is pending, and a failed copy leaves
// no earlier blob behind.
//
// Azurite (3.35) implements only Copy Blob From URL of these forms: there
// blobs above 256 MiB give ErrNoServerCopy (Put Block From URL: 501), and
// so do AppendBlob sources (Copy Blob From URL copies block blobs only).
//
// src must be an azure Driver of the same account at the same endpoint,
// whose credentials can authorize the read: an account key (a read-only
// SAS for the source container is signed with it, valid for an hour, per
// request) or a SAS token. Otherwise (Entra ID credentials, another
// account), and when the service refuses a copy from URL, the error wraps
// drivers.ErrNoServerCopy and nothing was written. A missing srcPath gives
// drivers.ErrNotFound.
func (d *Driver) CopyFrom(ctx context.Context, dstPath string, src drivers.Driver, srcPath string) error {
	for _, p := range []string{dstPath, srcPath} {
		if err := drivers.CheckPath(p); err != nil {
			return d.invalidPath("copy", p, err)
		}
	}
	where := fmt.Sprintf("%s: copy %s/%s", driverName, d.cfg.Container, d.blobName(dstPath))
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	s, ok := drivers.Underlying(src).(*Driver)
	if !ok {
		return fmt.Errorf("%s from %s: %w: the source is not on Azure", where, src, drivers.ErrNoServerCopy)
	}
	if why := d.sameService(s); why != "" {
		return fmt.Errorf("%s from %s: %w: %s", where, src, drivers.ErrNoServerCopy, why)
	}
	props, err := s.c.NewBlobClient(s.blobName(srcPath)).GetProperties(ctx, nil)
	if err != nil {
		return s.opErr(ctx, "copy", srcPath, err)
	}
	if isFolderMeta(props.Metadata) {
		return s.opErr(ctx, "copy", srcPath, errFolder)
	}
	var size int64
	if props.ContentLength != nil {
		size = *props.ContentLength
	}
	cond := &blob.SourceModifiedAccessConditions{SourceIfMatch: props.ETag}
	if size <= fromURLLimit {
		err = d.copyWhole(ctx, dstPath, s, srcPath, cond)
	} else {
		err = d.copyBlocks(ctx, dstPath, s, srcPath, cond, size)
	}
	switch {
	case err == nil:
		return nil
	case isNotFound(err) || bloberror.HasCode(err, bloberror.CannotVerifyCopySource) && ctx.Err() == nil && s.missing(ctx, srcPath):
		return s.opErr(ctx, "copy", srcPath, err)
	case bloberror.HasCode(err, bloberror.FeatureVersionMismatch, bloberror.UnsupportedHeader, bloberror.CannotVerifyCopySource,
		bloberror.InvalidBlobType) || isStatus(err, 501):
		return fmt.Errorf("%w: %w", d.opErr(ctx, "copy", dstPath, err), drivers.ErrNoServerCopy)
	}
	return d.opErr(ctx, "copy", dstPath, err)
}

// sameService says why a copy from s cannot be done by the service, or ""
// when it can.
func (d *Driver) sameService(s *Driver) string {
	switch {
	case s == d:
	case s.cfg.ServiceURL != d.cfg.ServiceURL || s.cfg.Account != d.cfg.Account:
		return "it is in another account or at another endpoint"
	}
	switch s.cfg.Credential {
	case SharedKey, SAS:
		return ""
	}
	return fmt.Sprintf("its credentials (%s) cannot sign the read the service makes (an account key or a SAS token can)", s.cfg.Credential)
}

// sourceURL is the URL the service reads srcPath of s from, with a SAS.
func (s *Driver) sourceURL(srcPath string) (string, error) {
	u := s.c.NewBlobClient(s.blobName(srcPath)).URL()
	if s.cfg.Credential == SAS {
		return u + "?" + s.cfg.SAS, nil
	}
	cred, err := blob.NewSharedKeyCredential(s.cfg.Account, s.cfg.AccountKey)
	if err != nil {
		return "", fmt.Errorf("the account key is not valid base64")
	}
	q, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-5 * time.Minute).UTC(),
		ExpiryTime:    time.Now().Add(copySASLifetime).UTC(),
		Permissions:   (&sas.ContainerPermissions{Read: true}).String(),
		ContainerName: s.cfg.Container,
	}.SignWithSharedKey(cred)
	if err != nil {
		return "", fmt.Errorf("signing a read SAS for the source: %s", firstLine(err.Error()))
	}
	return u + "?" + q.Encode(), nil
}

// copyWhole copies the blob in one request: Put Blob From URL (any
// source blob type; our Content-Type), or where the service does not
// implement it (Azurite answers 501) the synchronous Copy Blob From URL
// (block blob sources; the source's Content-Type, which the registry and
// Put set to application/octet-stream). Both are atomic. A blob of
// another type at dstPath, which neither can overwrite, is deleted first,
// as Put does.
func (d *Driver) copyWhole(ctx context.Context, dstPath string, s *Driver, srcPath string, cond *blob.SourceModifiedAccessConditions) error {
	from, err := s.sourceURL(srcPath)
	if err != nil {
		return err
	}
	bb := d.c.NewBlockBlobClient(d.blobName(dstPath))
	try := func() error {
		_, err := bb.UploadBlobFromURL(ctx, from, &blockblob.UploadBlobFromURLOptions{
			CopySourceBlobProperties:       to.Ptr(false),
			HTTPHeaders:                    &blob.HTTPHeaders{BlobContentType: to.Ptr(contentType)},
			SourceModifiedAccessConditions: cond,
		})
		if isStatus(err, 501) {
			_, err = bb.BlobClient().CopyFromURL(ctx, from, &blob.CopyFromURLOptions{SourceModifiedAccessConditions: cond})
		}
		return err
	}
	err = try()
	if bloberror.HasCode(err, bloberror.InvalidBlobType) && d.otherType(ctx, dstPath) {
		if _, derr := bb.Delete(ctx, nil); derr != nil && !isNotFound(derr) {
			return derr
		}
		err = try()
	}
	return err
}

// otherType reports whether a blob that is not a BlockBlob is at p.
func (d *Driver) otherType(ctx context.Context, p string) bool {
	props, err := d.c.NewBlobClient(d.blobName(p)).GetProperties(ctx, nil)
	return err == nil && props.BlobType != nil && *props.BlobType != blob.BlobTypeBlockBlob
}

// copyBlocks stages the blob as blocks read by the service from the
// source, blocksInFlight at once, and commits them only when all were
// staged; otherwise the staged blocks stay invisible until Azure discards
// them.
func (d *Driver) copyBlocks(ctx context.Context, dstPath string, s *Driver, srcPath string, cond *blob.SourceModifiedAccessConditions, size int64) error {
	if err := d.replaceOtherType(ctx, dstPath); err != nil {
		return err
	}
	bs := max(copyBlockSize, (size+maxBlocks-1)/maxBlocks)
	bb := d.c.NewBlockBlobClient(d.blobName(dstPath))
	return stageAndCommit(ctx, bb, size, bs, func(ctx context.Context, id string, off, n int64) error {
		from, err := s.sourceURL(srcPath)
		if err != nil {
			return err
		}
		rng := blob.HTTPRange{Offset: off, Count: n}
		_, err = bb.StageBlockFromURL(ctx, id, from, &blockblob.StageBlockFromURLOptions{Range: rng, SourceModifiedAccessConditions: cond})
		return err
	})
}

// missing reports whether srcPath is gone now (after a failed copy).
func (s *Driver) missing(ctx context.Context, srcPath string) bool {
	_, err := s.c.NewBlobClient(s.blobName(srcPath)).GetProperties(ctx, nil)
	return isNotFound(err)
}

// isStatus reports whether err is the service's answer with that HTTP status.
func isStatus(err error, status int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}
