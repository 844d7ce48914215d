package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"cloud.google.com/go/storage"

	"github.com/regbackup/regbackup/drivers"
)

const (
	driverName = "gcs"
	// uploadSessionType marks the objects the registry's gcs driver keeps
	// for uploads in progress; they are not files.
	uploadSessionType = "application/x-docker-upload-session"
	// blobType is the Content-Type of every object Put writes.
	blobType = "application/octet-stream"
)

var (
	_ drivers.Driver            = (*Driver)(nil)
	_ drivers.ConcurrencyHinter = (*Driver)(nil)
)

// Driver reads and writes the objects below one root directory of one
// bucket. It is safe for concurrent use.
type Driver struct {
	cfg    Config
	client *storage.Client
	bucket *storage.BucketHandle
	prefix string // root + "/", or "" for the bucket's top
}

// New connects to cfg's bucket and checks, within cfg.CheckTimeout, that it
// exists and can be listed with the credentials given. Its errors are one
// line, name the location and say what to do.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", driverName, cfg, err)
	}
	client, err := newClient(ctx, cfg)
	if err != nil {
		return nil, &lineError{msg: fmt.Sprintf("%s: %s: %s", driverName, cfg, err), err: err}
	}
	d := &Driver{cfg: cfg, client: client, bucket: client.Bucket(cfg.Bucket)}
	if r := cfg.root(); r != "" {
		d.prefix = r + "/"
	}
	if err := d.check(ctx); err != nil {
		client.Close()
		return nil, err
	}
	return d, nil
}

// Close releases the client's connections.
func (d *Driver) Close() error { return d.client.Close() }

// Name returns "gcs".
func (d *Driver) Name() string { return driverName }

// String returns the location without credentials, e.g. "gs://bucket/root".
func (d *Driver) String() string { return d.cfg.String() }

// DefaultConcurrency is 16: every request waits on a network round trip.
func (d *Driver) DefaultConcurrency() int { return defaultConcurrency }

// key is the object name of path p.
func (d *Driver) key(p string) string { return d.prefix + p }

// url names the object of path p in messages: "gs://bucket/root/p".
func (d *Driver) url(p string) string { return "gs://" + d.cfg.Bucket + "/" + d.key(p) }

// Stat reports on the object at p. A missing object, an upload session or
// a path that is only a prefix of other objects gives drivers.ErrNotFound.
func (d *Driver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	if err := drivers.CheckPath(p); err != nil {
		return drivers.FileInfo{}, invalidPath("stat", p, err)
	}
	attrs, err := d.bucket.Object(d.key(p)).Attrs(ctx)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return drivers.FileInfo{}, notFound("stat", d.url(p))
	case err != nil:
		return drivers.FileInfo{}, wrap("stat", d.url(p), err)
	case attrs.ContentType == uploadSessionType:
		return drivers.FileInfo{}, notFound("stat", d.url(p))
	}
	return drivers.FileInfo{Path: p, Size: attrs.Size, ModTime: attrs.Updated, MD5: drivers.MD5Hex(attrs.MD5)}, nil
}

// Reader streams the object at p. Interrupted downloads are resumed by the client library where they
// stopped. A missing object or an upload session gives drivers.ErrNotFound.
func (d *Driver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := drivers.CheckPath(p); err != nil {
		return nil, invalidPath("read", p, err)
	}
	r, err := d.bucket.Object(d.key(p)).NewReader(ctx)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return nil, notFound("read", d.url(p))
	case err != nil:
		return nil, wrap("read", d.url(p), err)
	case r.Attrs.ContentType == uploadSessionType:
		r.Close()
		return nil, notFound("read", d.url(p))
	}
	return &reader{r: r, object: d.url(p)}, nil
}

// reader makes the errors of a download one line naming the object.
type reader struct {
	r      *storage.Reader
	object string
}

func (r *reader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		err = wrap("read", r.object, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.r.Close() }

// Delete removes the object at p; a missing one gives drivers.ErrNotFound.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := drivers.CheckPath(p); err != nil {
		return invalidPath("delete", p, err)
	}
	err := d.bucket.Object(d.key(p)).Delete(ctx)
	switch {
	case errors.Is(err, storage.ErrObjectNotExist):
		return notFound("delete", d.url(p))
	case err != nil:
		return wrap("delete", d.url(p), err)
	}
	return nil
}
