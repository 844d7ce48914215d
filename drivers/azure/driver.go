package azure

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/drivers/internal/membudget"
)

const driverName = "azure"

var (
	_ drivers.Driver            = (*Driver)(nil)
	_ drivers.ConcurrencyHinter = (*Driver)(nil)
)

// Driver stores files as blobs in one container, below a root prefix. It is
// safe for concurrent use.
type Driver struct {
	cfg    Config // after withDefaults
	prefix string // rootPrefix(cfg.RootDirectory, cfg.LegacyRootPrefix)
	c      *container.Client
	mem    *membudget.Budget
	// pageSize is the most names one list request asks for; 0 leaves it
	// to the service (5000). Tests make it small to cross pages.
	pageSize int32
}

// New checks cfg, connects and lists the container once (within
// cfg.CheckTimeout, with few retries), so that a missing container, refused
// credentials or an unreachable endpoint fail here, in one line that names
// the location and what to do.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %s", driverName, location(cfg), scrubSecrets(err.Error(), (&Driver{cfg: cfg}).secrets()))
	}
	d := &Driver{cfg: c, prefix: rootPrefix(c.RootDirectory, c.LegacyRootPrefix), mem: membudget.New(c.BufferMemory, c.BlockSize)}
	if d.c, err = newContainerClient(c, retryOptions(c)); err != nil {
		return nil, fmt.Errorf("%s: %s: %s", driverName, d, d.scrub(err.Error()))
	}
	if err := d.check(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// check lists one blob below the root with a client that gives up quickly.
func (d *Driver) check(ctx context.Context) error {
	probe, err := newContainerClient(d.cfg, checkRetryOptions())
	if err != nil {
		return fmt.Errorf("%s: %s: %s", driverName, d, d.scrub(err.Error()))
	}
	cctx, cancel := context.WithTimeout(ctx, d.cfg.CheckTimeout)
	defer cancel()
	pager := probe.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: to.Ptr(d.prefix), MaxResults: to.Ptr(int32(1))})
	_, err = pager.NextPage(cctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", driverName, d, ctx.Err())
	case cctx.Err() != nil:
		return &safeError{msg: fmt.Sprintf("%s: cannot use %s: no answer from %s within %s (check the endpoint and network)",
			driverName, d, d.cfg.ServiceURL, d.cfg.CheckTimeout), err: err}
	}
	return &safeError{msg: fmt.Sprintf("%s: cannot use %s: %s", driverName, d, d.describe(err)), err: err}
}

// Name returns "azure".
func (d *Driver) Name() string { return driverName }

// String is the location in the form New's users give it, without secrets:
// azure://CONTAINER[/ROOT]?account=NAME[&endpoint=URL|&realm=SUFFIX][&legacy-root-prefix=true].
func (d *Driver) String() string { return location(d.cfg) }

// DefaultConcurrency is Config.Concurrency: every request waits on a round
// trip, so many blobs should be in flight.
func (d *Driver) DefaultConcurrency() int { return d.cfg.Concurrency }

// Config returns the configuration in use, defaults filled in. It holds
// the secrets it was given.
func (d *Driver) Config() Config { return d.cfg }

// location renders cfg as an azure:// URL without credentials.
func location(cfg Config) string {
	var b strings.Builder
	b.WriteString("azure://" + cfg.Container)
	if root := strings.Trim(cfg.RootDirectory, "/"); root != "" {
		b.WriteString("/" + root)
	}
	var q []string
	if cfg.Account != "" {
		q = append(q, "account="+cfg.Account)
	}
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	switch ep := strings.TrimRight(cfg.ServiceURL, "/"); {
	case ep != "" && ep != "https://"+cfg.Account+".blob."+realm:
		q = append(q, "endpoint="+redactURL(ep))
	case realm != DefaultRealm:
		q = append(q, "realm="+realm)
	}
	if cfg.LegacyRootPrefix {
		q = append(q, "legacy-root-prefix=true")
	}
	if len(q) > 0 {
		b.WriteString("?" + strings.Join(q, "&"))
	}
	return b.String()
}

// blobName is the blob that holds file p.
func (d *Driver) blobName(p string) string { return d.prefix + p }

// Stat reports on the blob for p. A missing blob, or a folder placeholder,
// gives an error wrapping drivers.ErrNotFound.
func (d *Driver) Stat(ctx context.Context, p string) (drivers.FileInfo, error) {
	if err := drivers.CheckPath(p); err != nil {
		return drivers.FileInfo{}, d.invalidPath("stat", p, err)
	}
	props, err := d.c.NewBlobClient(d.blobName(p)).GetProperties(ctx, nil)
	if err != nil {
		return drivers.FileInfo{}, d.opErr(ctx, "stat", p, err)
	}
	if isFolderMeta(props.Metadata) {
		return drivers.FileInfo{}, d.opErr(ctx, "stat", p, errFolder)
	}
	fi := drivers.FileInfo{Path: p, MD5: drivers.MD5Hex(props.ContentMD5)}
	if props.ContentLength != nil {
		fi.Size = *props.ContentLength
	}
	if props.LastModified != nil {
		fi.ModTime = *props.LastModified
	}
	return fi, nil
}

// Reader streams the blob for p, of any blob type. A download broken
// part-way resumes from where it stopped (up to MaxRetries times), and only
// while the blob is unchanged (same ETag).
func (d *Driver) Reader(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := drivers.CheckPath(p); err != nil {
		return nil, d.invalidPath("read", p, err)
	}
	resp, err := d.c.NewBlobClient(d.blobName(p)).DownloadStream(ctx, nil)
	if err != nil {
		return nil, d.opErr(ctx, "read", p, err)
	}
	if isFolderMeta(resp.Metadata) {
		resp.Body.Close()
		return nil, d.opErr(ctx, "read", p, errFolder)
	}
	rr := resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: int32(max(d.cfg.MaxRetries, 1)), EarlyCloseAsError: true})
	return &reader{d: d, ctx: ctx, p: p, rc: rr}, nil
}

// reader gives read errors the driver's one-line, secret-free form.
type reader struct {
	d   *Driver
	ctx context.Context
	p   string
	rc  io.ReadCloser
}

func (r *reader) Read(b []byte) (int, error) {
	n, err := r.rc.Read(b)
	if err != nil && err != io.EOF {
		err = r.d.opErr(r.ctx, "read", r.p, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.rc.Close() }

// Delete removes the blob for p, with its snapshots. A missing blob gives an
// error wrapping drivers.ErrNotFound.
func (d *Driver) Delete(ctx context.Context, p string) error {
	if err := drivers.CheckPath(p); err != nil {
		return d.invalidPath("delete", p, err)
	}
	_, err := d.c.NewBlobClient(d.blobName(p)).Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to.Ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	if err != nil {
		return d.opErr(ctx, "delete", p, err)
	}
	return nil
}

func (d *Driver) invalidPath(op, p string, err error) error {
	return fmt.Errorf("%s: %s %q: %w", driverName, op, p, err)
}
