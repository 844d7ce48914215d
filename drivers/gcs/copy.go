package gcs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"cloud.google.com/go/storage"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.Copier = (*Driver)(nil)

// CopyFrom copies srcPath of src to dstPath inside Cloud Storage with the
// rewrite API (the client library repeats the call until large objects
// or copies across locations and storage classes are done), so the bytes
// never pass through this process. A rewrite makes the target object
// appear only when complete: dstPath is whole, with Content-Type
// application/octet-stream, or as it was. The source is pinned to the
// generation Stat saw, so a source replaced during the copy fails it.
//
// src must be a gcs Driver on the same endpoint with the same credentials
// (key file, inline key, anonymous or Application Default Credentials);
// otherwise, and when the server answers 501, the error wraps
// drivers.ErrNoServerCopy and nothing was written. A missing srcPath (or
// an upload session, which is not a file) gives drivers.ErrNotFound.
func (d *Driver) CopyFrom(ctx context.Context, dstPath string, src drivers.Driver, srcPath string) error {
	for _, p := range []string{dstPath, srcPath} {
		if err := drivers.CheckPath(p); err != nil {
			return invalidPath("copy", p, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: copy %s: %w", driverName, d.url(dstPath), err)
	}
	s, ok := drivers.Underlying(src).(*Driver)
	if !ok {
		return fmt.Errorf("%s: copy %s from %s: %w: the source is not on Cloud Storage", driverName, d.url(dstPath), src, drivers.ErrNoServerCopy)
	}
	if why := d.sameService(s); why != "" {
		return fmt.Errorf("%s: copy %s from %s: %w: %s", driverName, d.url(dstPath), src, drivers.ErrNoServerCopy, why)
	}
	srcObj := s.bucket.Object(s.key(srcPath))
	attrs, err := srcObj.Attrs(ctx)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return notFound("copy", s.url(srcPath))
	case err != nil:
		return wrap("copy", s.url(srcPath), err)
	case attrs.ContentType == uploadSessionType:
		return notFound("copy", s.url(srcPath))
	}
	c := d.bucket.Object(d.key(dstPath)).CopierFrom(srcObj.If(storage.Conditions{GenerationMatch: attrs.Generation}))
	c.ContentType = blobType
	if _, err := c.Run(ctx); err != nil {
		switch {
		case errors.Is(err, storage.ErrObjectNotExist) || httpStatus(err) == http.StatusNotFound:
			return notFound("copy", s.url(srcPath))
		case httpStatus(err) == http.StatusNotImplemented:
			return fmt.Errorf("%w: %w", wrap("copy", d.url(dstPath), err), drivers.ErrNoServerCopy)
		case httpStatus(err) == http.StatusPreconditionFailed:
			return fmt.Errorf("%w (the source %s changed during the copy; run it again)", wrap("copy", d.url(dstPath), err), s.url(srcPath))
		}
		return wrap("copy", d.url(dstPath), err)
	}
	return nil
}

// sameService says why a rewrite from s cannot work, or "" when it can:
// the same endpoint and the same credentials. Being conservative costs
// only a read and a Put.
func (d *Driver) sameService(s *Driver) string {
	a, b := d.cfg, s.cfg
	switch {
	case s == d:
		return ""
	case a.Endpoint != b.Endpoint:
		return "it is on another endpoint"
	case a.KeyFile != b.KeyFile || !bytes.Equal(a.CredentialsJSON, b.CredentialsJSON) || a.Anonymous != b.Anonymous:
		return "it is reached with other credentials"
	}
	return ""
}
