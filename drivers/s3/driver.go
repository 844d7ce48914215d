package s3

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/membudget"
)

const driverName = "s3"

var (
	_ drivers.Driver            = (*Driver)(nil)
	_ drivers.ConcurrencyHinter = (*Driver)(nil)
)

// Driver stores a registry's files as objects in one bucket below a root
// directory. It is safe for concurrent use.
type Driver struct {
	cfg     Config // with defaults; Region is the one requests are signed for
	client  *s3.Client
	root    string            // key prefix: "" or RootDirectory + "/"
	pool    *membudget.Budget // upload memory, shared by every Put
	maxPart int64             // the biggest part the pool can hold: UploadMemory rounded down to PartSize
	opts    objectOptions
	secrets []string // credentials to keep out of messages

	regionGuessed bool // no region given: checkBucket may move to the bucket's

	live sync.Map // upload id -> struct{}: multipart uploads of Puts in flight, which RemoveLeftovers keeps
}

// objectOptions are set on every object written.
type objectOptions struct {
	sse    types.ServerSideEncryption
	kmsKey *string
	class  types.StorageClass
	acl    types.ObjectCannedACL
}

// New connects to the bucket c names and checks, within c.CheckTimeout,
// that it exists and the credentials may list it. A wrong endpoint, bucket,
// region or credentials give a one-line error that names the location and
// says what to fix.
func New(ctx context.Context, c Config) (*Driver, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", driverName, err)
	}
	d := &Driver{cfg: c, secrets: secretsOf(c)}
	client, region, guessed, err := newClient(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", d.locationForErrors(), d.redact(oneLine(err.Error())))
	}
	d.client, d.cfg.Region, d.regionGuessed = client, region, guessed
	if c.RootDirectory != "" {
		d.root = c.RootDirectory + "/"
	}
	d.maxPart = c.UploadMemory / c.PartSize * c.PartSize
	d.pool = membudget.New(d.maxPart, c.PartSize)
	d.opts = objectOptions{sse: types.ServerSideEncryption(c.SSE), class: types.StorageClass(c.StorageClass), acl: types.ObjectCannedACL(c.ObjectACL)}
	if c.SSEKMSKeyID != "" {
		d.opts.kmsKey = aws.String(c.SSEKMSKeyID)
	}
	if err := d.checkBucket(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// secretsOf lists the credentials a message must never show: the static
// ones and those in the environment.
func secretsOf(c Config) []string {
	var s []string
	for _, v := range []string{c.AccessKey, c.SecretKey, c.SessionToken,
		os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")} {
		if len(v) >= 4 {
			s = append(s, v)
		}
	}
	return s
}

// locationForErrors is String before the region is known.
func (d *Driver) locationForErrors() string { return d.cfg.location() }

// Name returns "s3".
func (d *Driver) Name() string { return driverName }

// String returns the location as a URL without secrets, e.g.
// "s3://bucket/root?endpoint=http://127.0.0.1:7070&path-style=true&region=us-east-1".
func (d *Driver) String() string { return d.cfg.location() }

// DefaultConcurrency is Config.Concurrency (default 16): object stores are
// latency-bound, so many blobs should be in flight.
func (d *Driver) DefaultConcurrency() int { return d.cfg.Concurrency }

// key is the object key of a driver path.
func (d *Driver) key(p string) string { return d.root + p }

// Stat reports on the object at p; a missing object gives an error wrapping
// drivers.ErrNotFound. A path that is only a prefix of other keys is missing.
func (d *Driver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	if err := drivers.CheckPath(p); err != nil {
		return drivers.FileInfo{}, fmt.Errorf("%s: stat %q: %w", driverName, p, err)
	}
	out, err := d.head(ctx, "stat", p)
	if err != nil {
		return drivers.FileInfo{}, err
	}
	return drivers.FileInfo{Path: p, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified),
		MD5: etagMD5(out.ETag)}, nil
}

// head asks for the object at p on behalf of op.
func (d *Driver) head(ctx context.Context, op, p string) (*s3.HeadObjectOutput, error) {
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.cfg.Bucket, Key: aws.String(d.key(p))})
	if err != nil {
		if isNotFound(err) && ctx.Err() == nil {
			return nil, notFound(op, p)
		}
		return nil, d.fail(op, p, err)
	}
	return out, nil
}

// Delete removes the object at p; a missing object gives an error wrapping
// drivers.ErrNotFound (S3's DELETE succeeds either way, so Delete asks first).
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := drivers.CheckPath(p); err != nil {
		return fmt.Errorf("%s: delete %q: %w", driverName, p, err)
	}
	if _, err := d.head(ctx, "delete", p); err != nil {
		return err
	}
	if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.cfg.Bucket, Key: aws.String(d.key(p))}); err != nil {
		return d.fail("delete", p, err)
	}
	return nil
}

// Reader opens the object at p for sequential reading; see objectReader for
// how it survives a dropped connection. A missing object gives an error
// wrapping drivers.ErrNotFound.
func (d *Driver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := drivers.CheckPath(p); err != nil {
		return nil, fmt.Errorf("%s: read %q: %w", driverName, p, err)
	}
	return d.openReader(ctx, p)
}

// relPath turns a listed key back into a driver path; ok is false for keys
// outside the root and for "folder" keys ending in "/".
func (d *Driver) relPath(key string) (string, bool) {
	if !strings.HasPrefix(key, d.root) || strings.HasSuffix(key, "/") {
		return "", false
	}
	p := key[len(d.root):]
	return p, p != ""
}
