package s3

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/drivers"
)

var _ drivers.LeftoverRemover = (*Driver)(nil)

// RemoveLeftovers aborts the unfinished multipart uploads to keys below
// prefix: what a Put killed half way leaves (its parts cost storage until
// a bucket lifecycle rule removes them; the object never appears). The
// uploads of this Driver's own Puts in flight are kept, and those whose
// path (the key below the root) keep accepts. S3 does not say who started
// an upload: the caller keeps what a registry writes with multipart
// uploads, the uploads of pushes in progress (its _uploads folders). An
// upload already gone when it is aborted is not an error.
func (d *Driver) RemoveLeftovers(ctx context.Context, prefix string, keep func(path string) bool) (int, error) {
	rel, err := drivers.CheckPrefix(prefix)
	if err != nil {
		return 0, d.fail("remove leftovers", prefix, err)
	}
	keyPrefix := d.key(rel)
	if rel != "" && !strings.HasSuffix(keyPrefix, "/") {
		keyPrefix += "/"
	}
	in := &s3.ListMultipartUploadsInput{Bucket: &d.cfg.Bucket, Prefix: aws.String(keyPrefix)}
	var removed int
	var errs []error
	for {
		out, err := d.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return removed, d.fail("remove leftovers", rel, err)
		}
		for _, u := range out.Uploads {
			key, id := aws.ToString(u.Key), aws.ToString(u.UploadId)
			if _, live := d.live.Load(id); live || !strings.HasPrefix(key, keyPrefix) {
				continue
			}
			if keep != nil && keep(strings.TrimPrefix(key, d.root)) {
				continue
			}
			up := &upload{d: d, key: u.Key, id: u.UploadId}
			if err := up.abort(ctx); err != nil {
				errs = append(errs, d.fail("abort upload", strings.TrimPrefix(key, d.root), err))
				continue
			}
			removed++
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	return removed, errors.Join(errs...)
}
