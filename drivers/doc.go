// Package drivers defines how regbackup reaches a registry's storage: the
// Driver interface every backend adapter implements, the FileInfo it
// reports, the ErrNotFound sentinel, and the location registry that turns a
// user's --from/--to argument (a path or a URL) into a Driver.
//
// Paths handed to a Driver are slash-separated, relative to the registry's
// root directory and never start with "/": "docker/registry/v2/blobs/...".
// A Driver never sees the root itself as a path it may remove.
package drivers
