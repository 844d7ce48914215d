// Package s3 is the Driver for Amazon S3 and S3-compatible object stores
// (MinIO, Ceph RGW, versitygw, Wasabi, R2, ...), built on aws-sdk-go-v2.
//
// Objects are named exactly as the registry's s3 storage driver names them:
// the root directory without leading or trailing "/", then "/", then the
// path ("reg/docker/registry/v2/..."; without a root, the path alone), so a
// registry configured with the same bucket and rootdirectory serves what this
// driver writes. Folders are only key prefixes: the driver never creates
// "folder" objects and skips keys ending in "/" when it lists.
//
// Put is all or nothing: a small object is one PutObject; a larger one is a
// multipart upload streamed from the reader with several parts in flight,
// completed only when the reader ended at the expected size, and aborted on
// any error or cancellation, so no partial object and no orphan upload is
// left. The part buffers come from one pool per Driver, so memory stays
// bounded however many Puts run at once.
//
// It registers the "s3" URL scheme:
//
//	s3://BUCKET[/ROOTDIR]?region=R&endpoint=URL&path-style=true&...
//
// (see ParseLocation for every option) and the registry storage driver names
// "s3", "s3aws" and "s3_v2" (GitLab), read from a registry's config.yml as
// the registry reads them (see FromParameters). Credentials come from the
// AWS default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN,
// AWS_PROFILE and the shared files, web identity, container and instance
// roles) unless Config sets static keys; they never appear in String(),
// errors or logs.
package s3
