package azure

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/regbackup/regbackup/drivers"
)

// errFolder marks a folder placeholder blob found where a file was asked
// for; callers see drivers.ErrNotFound.
var errFolder = errors.New("a folder placeholder, not a file")

// isFolderMeta recognises the placeholder blobs that stand for folders on
// accounts with a hierarchical namespace (and that some tools create).
func isFolderMeta(meta map[string]*string) bool {
	for k, v := range meta {
		if strings.EqualFold(k, "hdi_isfolder") && v != nil && strings.EqualFold(*v, "true") {
			return true
		}
	}
	return false
}

// Walk lists the blobs below prefix page by page, in the service's lexical
// order of names, and calls fn for each file. Folder placeholders and names
// that are not canonical paths below the root are skipped. Each FileInfo
// carries the blob's Content-MD5, if it has one (Put sets it on the blobs
// it sends in one request).
//
// When nothing is found, Walk looks once under the other naming (with or
// without the leading slash of Distribution 2.x): if the registry is there,
// Walk fails and says to flip legacy-root-prefix, rather than letting a
// backup take the container for empty.
func (d *Driver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	dir, err := drivers.CheckPrefix(prefix)
	if err != nil {
		return d.invalidPath("walk", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
	}
	found, err := d.list(ctx, d.prefix, dir, fn)
	if err != nil || found > 0 {
		return err
	}
	return d.checkOtherNaming(ctx, dir)
}

// list walks the names below root+dir and returns how many files it
// reported.
func (d *Driver) list(ctx context.Context, root, dir string, fn drivers.WalkFunc) (int, error) {
	listPrefix := root
	if dir != "" {
		listPrefix += dir + "/"
	}
	opts := &container.ListBlobsFlatOptions{
		Prefix:  to.Ptr(listPrefix),
		Include: container.ListBlobsInclude{Metadata: true},
	}
	if d.pageSize > 0 {
		opts.MaxResults = to.Ptr(d.pageSize)
	}
	pager := d.c.NewListBlobsFlatPager(opts)
	found := 0
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return found, d.opErr(ctx, "walk", dir, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil || it.Properties == nil || isFolderMeta(it.Metadata) {
				continue
			}
			p := strings.TrimPrefix(*it.Name, root)
			if drivers.CheckPath(p) != nil {
				continue // "folder/" placeholders, "a//b", other naming
			}
			if err := ctx.Err(); err != nil {
				return found, fmt.Errorf("%s: walk %s: %w", driverName, dir, err)
			}
			fi := drivers.FileInfo{Path: p, MD5: drivers.MD5Hex(it.Properties.ContentMD5)}
			if it.Properties.ContentLength != nil {
				fi.Size = *it.Properties.ContentLength
			}
			if it.Properties.LastModified != nil {
				fi.ModTime = *it.Properties.LastModified
			}
			found++
			if err := fn(fi); err != nil {
				return found, err
			}
		}
	}
	return found, nil
}

// checkOtherNaming fails when dir is empty under this Driver's naming but
// holds files under the other one.
func (d *Driver) checkOtherNaming(ctx context.Context, dir string) error {
	other := rootPrefix(d.cfg.RootDirectory, !d.cfg.LegacyRootPrefix)
	stop := errors.New("found")
	var first string
	_, err := d.list(ctx, other, dir, func(fi drivers.FileInfo) error { first = fi.Path; return stop })
	switch {
	case errors.Is(err, stop):
	case err != nil:
		return err
	default:
		return nil
	}
	if d.cfg.LegacyRootPrefix {
		return fmt.Errorf("%s: walk %s: nothing under %q, but the container holds %q (Distribution 3.x/GitLab naming, no leading slash): remove legacy-root-prefix=true (registry config: legacyrootprefix: false)",
			driverName, d, d.prefix+dir, other+first)
	}
	return fmt.Errorf("%s: walk %s: nothing under %q, but the container holds %q (Distribution 2.x naming, with a leading slash): add legacy-root-prefix=true to the location (registry config: legacyrootprefix: true)",
		driverName, d, d.prefix+dir, other+first)
}
