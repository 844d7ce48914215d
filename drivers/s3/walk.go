package s3

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/drivers"
)

// Walk calls fn for the object named prefix, if any, then for every object
// below prefix + "/", in the lexical key order ListObjectsV2 returns, one
// page of 1000 keys at a time. Keys ending in "/" ("folder" objects some
// tools create) are skipped. ctx is checked before each call of fn. Each
// FileInfo carries the MD5 its ETag stands for, if any (see etagMD5).
func (d *Driver) Walk(ctx context.Context, prefix string, fn drivers.WalkFunc) error {
	p, err := drivers.CheckPrefix(prefix)
	if err != nil {
		return fmt.Errorf("%s: walk %q: %w", driverName, prefix, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
	}
	keyPrefix := d.root
	if p != "" {
		// The object named p, if it exists, is the first key with prefix p
		// (any other key with that prefix is longer). It sorts before every
		// key below p + "/".
		if err := d.walkPage(ctx, prefix, d.key(p), 1, func(fi drivers.FileInfo) error {
			if fi.Path == p {
				return fn(fi)
			}
			return nil
		}); err != nil {
			return err
		}
		keyPrefix = d.key(p) + "/"
	}
	return d.walkPage(ctx, prefix, keyPrefix, 0, fn)
}

// walkPage lists the keys starting with keyPrefix, all of them (limit 0)
// or only the first limit, and calls fn for each file.
func (d *Driver) walkPage(ctx context.Context, prefix, keyPrefix string, limit int32, fn drivers.WalkFunc) error {
	in := &s3.ListObjectsV2Input{Bucket: &d.cfg.Bucket, Prefix: aws.String(keyPrefix)}
	if limit > 0 {
		in.MaxKeys = aws.Int32(limit)
	}
	pages := s3.NewListObjectsV2Paginator(d.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return d.fail("walk", prefix, err)
		}
		for _, obj := range page.Contents {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("%s: walk %s: %w", driverName, prefix, err)
			}
			p, ok := d.relPath(aws.ToString(obj.Key))
			if !ok {
				continue
			}
			fi := drivers.FileInfo{Path: p, Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified),
				MD5: etagMD5(obj.ETag)}
			if err := fn(fi); err != nil {
				return err
			}
		}
		if limit > 0 {
			return nil
		}
	}
	return nil
}
