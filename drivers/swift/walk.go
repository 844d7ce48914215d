package swift

import (
	"context"
	"fmt"
	"strings"

	"github.com/ncw/swift/v2"
	"golang.org/x/sync/errgroup"

	"github.com/regbackup/regbackup/drivers"
)

// listPage is how many names one container listing asks for (Swift's
// default and maximum is 10,000).
const listPage = 1000

// emptyMD5 is the MD5 of no bytes: the hash a listing gives a DLO manifest.
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// Walk calls fn for the object named prefix, if any, then for every object
// below prefix + "/", in lexical order, one listing page of 1000 names at a
// time. Names ending in "/" (pseudo-folder markers) are skipped, and so is
// everything outside "<prefix>/files/" (segments). A listing reports a DLO
// manifest as 0 bytes, so the size of every 0-byte entry comes from a HEAD
// (Concurrency of them at once per page); a plain object's MD5 is its
// listed hash. ctx is checked before each call of fn.
func (d *Driver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	p, err := drivers.CheckPrefix(prefix)
	if err != nil {
		return fmt.Errorf("%s: walk %q: %w", driverName, prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
	}
	namePrefix := d.files
	keep := func(string) bool { return true }
	if p != "" {
		namePrefix = d.object(p)
		keep = func(rel string) bool { return rel == p || strings.HasPrefix(rel, p+"/") }
	}
	marker := ""
	for {
		var objs []swift.Object
		err := d.retry(ctx, func() error {
			var err error
			objs, err = d.conn.Objects(ctx, d.cfg.Container, &swift.ObjectsOpts{Prefix: namePrefix, Marker: marker, Limit: listPage})
			return err
		})
		if err != nil {
			return d.fail("walk", prefix, err)
		}
		if len(objs) == 0 {
			return nil
		}
		marker = objs[len(objs)-1].Name
		infos, err := d.pageInfos(ctx, prefix, objs, keep)
		if err != nil {
			return err
		}
		for _, fi := range infos {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
			}
			if err := fn(fi); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			return nil
		}
	}
}

// pageInfos turns one listing page into FileInfos, in its order, asking
// for the size of each 0-byte entry with a HEAD. An entry deleted between
// the listing and its HEAD is left out.
func (d *Driver) pageInfos(ctx context.Context, prefix string, objs []swift.Object, keep func(string) bool) ([]drivers.FileInfo, error) {
	infos := make([]drivers.FileInfo, 0, len(objs))
	var heads []int
	for _, o := range objs {
		rel, ok := d.relPath(o.Name)
		if !ok || !keep(rel) {
			continue
		}
		fi := drivers.FileInfo{Path: rel, Size: o.Bytes, ModTime: o.LastModified}
		if o.ObjectType != swift.StaticLargeObjectType {
			fi.MD5 = drivers.ETagMD5(o.Hash)
		}
		if o.Bytes == 0 {
			heads = append(heads, len(infos))
		}
		infos = append(infos, fi)
	}
	if len(heads) == 0 {
		return infos, nil
	}
	gone := make([]bool, len(infos))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.cfg.Concurrency)
	for _, i := range heads {
		g.Go(func() error {
			o, err := d.head(gctx, "walk", infos[i].Path, d.object(infos[i].Path))
			switch {
			case err == nil:
				infos[i].Size, infos[i].MD5 = o.size, o.md5()
				if !o.modTime.IsZero() {
					infos[i].ModTime = o.modTime
				}
			case isNotFound(err):
				gone[i] = true
			default:
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: walk %s: %w", driverName, prefix, ctx.Err())
		}
		return nil, err
	}
	out := infos[:0]
	for i, fi := range infos {
		if !gone[i] {
			out = append(out, fi)
		}
	}
	return out, nil
}

// relPath turns a listed name back into a driver path; ok is false for
// names outside "<prefix>/files/", pseudo-folder names ending in "/", and
// names no Driver path can have.
func (d *Driver) relPath(name string) (string, bool) {
	if !strings.HasPrefix(name, d.files) || strings.HasSuffix(name, "/") {
		return "", false
	}
	p := name[len(d.files):]
	return p, drivers.CheckPath(p) == nil
}
