package gcs

import (
	"context"
	"errors"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/regbackup/regbackup/drivers"
)

// listFields are the object attributes Walk asks the server for.
var listFields = []string{"Name", "Size", "Updated", "ContentType", "MD5"}

// Walk calls fn for the object named prefix, if any (only when prefix has
// no trailing "/"), then for every object below prefix + "/", in the
// lexical byte order the server lists names in, page by page (one page of
// up to 1000 names in memory). Upload sessions, folder placeholders (names
// ending in "/") and names that are not canonical paths are skipped. ctx is
// checked before each call of fn. Each FileInfo carries the object's
// md5Hash, which composite objects lack.
func (d *Driver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	p, err := drivers.CheckPrefix(prefix)
	if err != nil {
		return invalidPath("walk", prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return wrap("walk", d.url(p), err)
	}
	if p != "" && !strings.HasSuffix(prefix, "/") {
		fi, err := d.Stat(ctx, p)
		switch {
		case err == nil:
			if err := fn(fi); err != nil {
				return err
			}
		case !errors.Is(err, drivers.ErrNotFound):
			return err
		}
	}
	below := d.prefix
	if p != "" {
		below += p + "/"
	}
	q := &storage.Query{Prefix: below, Projection: storage.ProjectionNoACL}
	if err := q.SetAttrSelection(listFields); err != nil {
		return wrap("walk", d.url(p), err)
	}
	it := d.bucket.Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return wrap("walk", "gs://"+d.cfg.Bucket+"/"+below, err)
		}
		rel := strings.TrimPrefix(attrs.Name, d.prefix)
		if attrs.ContentType == uploadSessionType || drivers.CheckPath(rel) != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return wrap("walk", d.url(p), err)
		}
		if err := fn(drivers.FileInfo{Path: rel, Size: attrs.Size, ModTime: attrs.Updated, MD5: drivers.MD5Hex(attrs.MD5)}); err != nil {
			return err
		}
	}
}
