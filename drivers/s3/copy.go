package s3

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.Copier = (*Driver)(nil)

// Copy limits. Variables, not constants, so that tests can run the
// multipart copy on a few MiB.
var (
	// singleCopyLimit is the largest object copied with one CopyObject
	// (S3's limit: 5 GiB).
	singleCopyLimit int64 = 5 << 30
	// copyPartSize is the part size of a multipart copy (raised when the
	// object would need more than 10,000 parts).
	copyPartSize int64 = 512 << 20
)

// CopyFrom copies srcPath of src to dstPath inside the S3 service, without
// the bytes passing through this process: one CopyObject up to 5 GiB, else
// a multipart upload of UploadPartCopy parts (512 MiB, PartConcurrency at
// once) completed only when every part succeeded and aborted otherwise. So
// dstPath appears whole, with the driver's Content-Type, encryption,
// storage class and ACL, or stays as it was. Every request names the
// source's ETag (x-amz-copy-source-if-match): a source replaced during the
// copy fails it rather than mixing two versions.
//
// src must be an s3 Driver on the same endpoint, signing for the same
// region with the same credentials (as resolved, static or from the AWS
// chain); otherwise, and when the server answers NotImplemented, the error
// wraps drivers.ErrNoServerCopy and nothing was written. A missing srcPath
// gives drivers.ErrNotFound.
func (d *Driver) CopyFrom(ctx context.Context, dstPath string, src drivers.Driver, srcPath string) error {
	for _, p := range []string{dstPath, srcPath} {
		if err := drivers.CheckPath(p); err != nil {
			return fmt.Errorf("%s: copy %q: %w", driverName, p, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: copy %s: %w", driverName, dstPath, err)
	}
	s, ok := drivers.Underlying(src).(*Driver)
	if !ok {
		return fmt.Errorf("%s: copy %s from %s: %w: the source is not on S3", driverName, dstPath, src, drivers.ErrNoServerCopy)
	}
	if why := d.sameService(ctx, s); why != "" {
		return fmt.Errorf("%s: copy %s from %s: %w: %s", driverName, dstPath, src, drivers.ErrNoServerCopy, why)
	}
	head, err := s.head(ctx, "copy", srcPath)
	if err != nil {
		return err
	}
	size, etag := aws.ToInt64(head.ContentLength), head.ETag
	source := copySource(s.cfg.Bucket, s.key(srcPath))
	if size <= singleCopyLimit {
		err = d.copyObject(ctx, dstPath, source, etag)
	} else {
		err = d.copyMultipart(ctx, dstPath, source, etag, size)
	}
	if err == nil {
		return nil
	}
	if code, _ := apiCode(err); code == "NotImplemented" {
		return fmt.Errorf("%w: %w", err, drivers.ErrNoServerCopy)
	}
	if isNotFound(err) {
		return notFound("copy", srcPath)
	}
	if isPreconditionFailed(err) {
		return fmt.Errorf("%w (the source %s changed during the copy; run it again)", err, srcPath)
	}
	return err
}

// sameService says why a server-side copy from s cannot work, or "" when
// it can: both drivers must reach the same endpoint, sign for the same
// region, and hold the same credentials. Being conservative costs only a
// read and a Put.
func (d *Driver) sameService(ctx context.Context, s *Driver) string {
	if s == d {
		return ""
	}
	a, b := d.cfg, s.cfg
	switch {
	case a.Endpoint != b.Endpoint || a.DisableTLS != b.DisableTLS:
		return "it is on another endpoint"
	case a.Region != b.Region:
		return "it is in another region"
	}
	ca, erra := d.client.Options().Credentials.Retrieve(ctx)
	cb, errb := s.client.Options().Credentials.Retrieve(ctx)
	if erra != nil || errb != nil {
		return "the credentials could not be compared"
	}
	if ca.AccessKeyID != cb.AccessKeyID || ca.SecretAccessKey != cb.SecretAccessKey || ca.SessionToken != cb.SessionToken {
		return "it is reached with other credentials"
	}
	return ""
}

// copyObject copies the whole object in one request.
func (d *Driver) copyObject(ctx context.Context, p, source string, etag *string) error {
	_, err := d.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:               &d.cfg.Bucket,
		Key:                  aws.String(d.key(p)),
		CopySource:           aws.String(source),
		CopySourceIfMatch:    etag,
		MetadataDirective:    types.MetadataDirectiveReplace,
		ContentType:          aws.String(contentType),
		ServerSideEncryption: d.opts.sse, SSEKMSKeyId: d.opts.kmsKey, StorageClass: d.opts.class, ACL: d.opts.acl,
	})
	if err != nil {
		return d.fail("copy", p, err)
	}
	return nil
}

// copyMultipart copies an object of size bytes as UploadPartCopy parts of
// one multipart upload, PartConcurrency at once; any failure (or ctx)
// aborts the upload, so nothing becomes visible.
func (d *Driver) copyMultipart(ctx context.Context, p, source string, etag *string, size int64) error {
	partSize := max(copyPartSize, (size+maxParts-1)/maxParts)
	return d.multipart(ctx, "copy", p, func(ctx context.Context, u *upload) error {
		for off, n := int64(0), int32(1); off < size; off, n = off+partSize, n+1 {
			if err := ctx.Err(); err != nil {
				return u.cause(ctx, err)
			}
			rng := fmt.Sprintf("bytes=%d-%d", off, min(off+partSize, size)-1)
			err := u.run(ctx, n, func() {}, func(ctx context.Context) (*string, error) {
				out, err := d.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
					Bucket: &d.cfg.Bucket, Key: u.key, UploadId: u.id, PartNumber: aws.Int32(n),
					CopySource: aws.String(source), CopySourceIfMatch: etag, CopySourceRange: aws.String(rng),
				})
				if err != nil || out.CopyPartResult == nil {
					return nil, err
				}
				return out.CopyPartResult.ETag, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// isPreconditionFailed reports an answer saying the source's ETag no
// longer matches: it was replaced during the copy.
func isPreconditionFailed(err error) bool {
	code, status := apiCode(err)
	return code == "PreconditionFailed" || status == 412
}

// copySource is the x-amz-copy-source value for key in bucket:
// "bucket/key", percent-encoded except for unreserved characters and "/",
// as S3 decodes it.
func copySource(bucket, key string) string {
	var b strings.Builder
	for _, c := range []byte(bucket + "/" + key) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
