package swift

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ncw/swift/v2"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/membudget"
)

const driverName = "swift"

var (
	_ drivers.Driver            = (*Driver)(nil)
	_ drivers.ConcurrencyHinter = (*Driver)(nil)
)

// Driver stores a registry's files as objects in one Swift container below
// the registry's prefix. It is safe for concurrent use.
type Driver struct {
	cfg     Config // with defaults; MaxObjectSize as the cluster reported it
	conn    *swift.Connection
	files   string // object name prefix of registry files: "reg/files/"
	segs    string // object name prefix of large-object segments: "reg/segments/"
	pool    *membudget.Budget
	secrets []string // credentials to keep out of messages
}

// New authenticates, checks within c.CheckTimeout that the container
// exists and can be read, and asks the cluster for its object size limit.
// A wrong auth URL, credentials or container give a one-line error that
// names the location and says what to fix.
func New(ctx context.Context, c Config) (*Driver, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", driverName, err)
	}
	conn, err := newConnection(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: reading the OpenStack environment: %w", driverName, c.location(), err)
	}
	// Fill what the environment gave, for String and messages.
	c.AuthURL, c.Region, c.Tenant, c.TenantID = conn.AuthUrl, conn.Region, conn.Tenant, conn.TenantId
	c.Domain, c.DomainID, c.TenantDomain, c.TenantDomainID = conn.Domain, conn.DomainId, conn.TenantDomain, conn.TenantDomainId
	c.Username, c.UserID, c.EndpointType, c.TrustID = conn.UserName, conn.UserId, string(conn.EndpointType), conn.TrustId
	if c.AuthVersion == 0 {
		c.AuthVersion = conn.AuthVersion
	}
	d := &Driver{
		cfg:   c,
		conn:  conn,
		files: strings.TrimLeft(c.Prefix+"/files", "/") + "/",
		segs:  strings.TrimLeft(c.Prefix+"/segments/", "/"),
		pool:  membudget.New(c.UploadMemory/c.ChunkSize*c.ChunkSize, c.ChunkSize),
	}
	d.secrets = secretsOf(conn)
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// secretsOf lists the credentials a message must never show.
func secretsOf(conn *swift.Connection) []string {
	var s []string
	for _, v := range []string{conn.ApiKey, conn.ApplicationCredentialSecret, conn.AuthToken, conn.Token,
		os.Getenv("OS_PASSWORD"), os.Getenv("ST_KEY"), os.Getenv("OS_AUTH_TOKEN")} {
		if len(v) >= 4 {
			s = append(s, v)
		}
	}
	return s
}

// Name returns "swift".
func (d *Driver) Name() string { return driverName }

// String returns the location as a URL without secrets, e.g.
// "swift://registry/reg?auth=https://keystone.example.com/v3&region=RegionOne".
func (d *Driver) String() string { return d.cfg.location() }

// DefaultConcurrency is Config.Concurrency (default 16).
func (d *Driver) DefaultConcurrency() int { return d.cfg.Concurrency }

// object is the object name of a driver path.
func (d *Driver) object(p string) string { return d.files + p }

// objectInfo is what a HEAD or GET says about an object.
type objectInfo struct {
	size     int64
	modTime  time.Time
	etag     string // unquoted
	manifest string // X-Object-Manifest: "container/prefix" of a DLO, else ""
	slo      bool   // a Static Large Object (never written by the registry)
}

// md5 is the content MD5 the ETag stands for: a plain object's ETag is the
// MD5 of its content; a large object's is not.
func (o objectInfo) md5() string {
	if o.manifest != "" || o.slo {
		return ""
	}
	return drivers.ETagMD5(o.etag)
}

// parseInfo reads an answer's headers.
func parseInfo(h swift.Headers) objectInfo {
	o := objectInfo{etag: strings.Trim(h["Etag"], `"`), manifest: h["X-Object-Manifest"], slo: h["X-Static-Large-Object"] != ""}
	o.size, _ = strconv.ParseInt(h["Content-Length"], 10, 64)
	if t, err := time.Parse(http.TimeFormat, h["Last-Modified"]); err == nil {
		o.modTime = t
	}
	return o
}

// head asks for the object named name on behalf of op on path p. A missing
// object gives an error wrapping drivers.ErrNotFound.
func (d *Driver) head(ctx context.Context, op, p, name string) (objectInfo, error) {
	var h swift.Headers
	err := d.retry(ctx, func() error {
		var err error
		_, h, err = d.call(ctx, request{method: http.MethodHead, object: name})
		return err
	})
	if err != nil {
		if status(err) == http.StatusNotFound {
			return objectInfo{}, notFound(op, p)
		}
		return objectInfo{}, d.fail(op, p, err)
	}
	return parseInfo(h), nil
}

// Stat reports on the object at p; a missing object gives an error wrapping
// drivers.ErrNotFound. The size of a DLO is that of the segments Swift
// finds for it (Reader checks them).
func (d *Driver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	if err := drivers.CheckPath(p); err != nil {
		return drivers.FileInfo{}, fmt.Errorf("%s: stat %q: %w", driverName, p, err)
	}
	o, err := d.head(ctx, "stat", p, d.object(p))
	if err != nil {
		return drivers.FileInfo{}, err
	}
	return drivers.FileInfo{Path: p, Size: o.size, ModTime: o.modTime, MD5: o.md5()}, nil
}

// Delete removes the object at p, and when it is a DLO whose segments are
// below this prefix's segments/, those segments too (as the registry's
// Delete does). A missing object gives an error wrapping
// drivers.ErrNotFound.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := drivers.CheckPath(p); err != nil {
		return fmt.Errorf("%s: delete %q: %w", driverName, p, err)
	}
	o, err := d.head(ctx, "delete", p, d.object(p))
	if err != nil {
		return err
	}
	if err := d.deleteObject(ctx, d.object(p)); err != nil {
		if status(err) == http.StatusNotFound {
			return notFound("delete", p)
		}
		return d.fail("delete", p, err)
	}
	if prefix, ok := d.ownSegments(o.manifest); ok {
		if err := d.deleteSegments(ctx, prefix); err != nil {
			return d.failIn("delete", p, "segments", err)
		}
	}
	return nil
}

// deleteObject deletes one object by name.
func (d *Driver) deleteObject(ctx context.Context, name string) error {
	return d.retry(ctx, func() error {
		_, _, err := d.call(ctx, request{method: http.MethodDelete, object: name})
		return err
	})
}

// Reader opens the object at p for sequential reading; see openReader. A
// missing object gives an error wrapping drivers.ErrNotFound, a DLO whose
// segments are missing one wrapping drivers.ErrDamaged.
func (d *Driver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := drivers.CheckPath(p); err != nil {
		return nil, fmt.Errorf("%s: read %q: %w", driverName, p, err)
	}
	return d.openReader(ctx, p)
}
