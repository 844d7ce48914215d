// Package gcs is the Driver for a registry stored in Google Cloud Storage
// (the registry's "gcs" storage driver).
//
// It registers the "gs" URL scheme (and "gcs" as an alias):
//
//	gs://BUCKET[/ROOTDIR][?endpoint=URL][&auth=default|none][&chunksize=BYTES]
//
// and the registry config.yml driver name "gcs" (parameters bucket,
// rootdirectory, keyfile, credentials, chunksize).
//
// Credentials, in this order: a service-account key file (Config.KeyFile,
// the registry's keyfile), inline key JSON (Config.CredentialsJSON, the
// registry's credentials map), none (Config.Anonymous: emulators such as
// fake-gcs-server, or public buckets), else Application Default Credentials
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's application-default login, the
// metadata server). STORAGE_EMULATOR_HOST, when set, points the client at an
// emulator without authentication. A location URL never carries key
// material; String, errors and the archive catalog never show it.
//
// Object names are the registry's: the root directory trimmed of "/", then
// "/", then the path ("reg/docker/registry/v2/..."; no root:
// "docker/registry/v2/..."). Objects are written with Content-Type
// application/octet-stream. Objects the registry keeps for uploads in
// progress (Content-Type application/x-docker-upload-session) and "folder"
// placeholder objects (names ending in "/") are invisible: Walk skips them,
// Stat and Reader report them as not found.
//
// Put is all or nothing: an object appears only when the upload is
// finalized, which Put does only after the reader returned exactly the
// expected bytes and io.EOF; on any failure or cancellation the upload is
// abandoned and the earlier object, if any, stays. A seekable reader of at
// most 16 MiB (a restore hands over its buffered blobs so) goes up in one
// request read straight from it, declaring its CRC32C so the server refuses
// anything else. Other readers go through the client library's buffer:
// one request when smaller than Config.ChunkSize, else a resumable upload
// of ChunkSize chunks. Memory per Put in flight: 32 KiB for a seekable
// reader; else one buffer of ChunkSize (default 8 MiB), or of the object's
// size rounded up to 256 KiB when that is smaller. A restore, which streams
// only blobs above 16 MiB and one at a time, thus adds at most about
// ChunkSize + 16 × 32 KiB to its own buffers; N concurrent streamed Puts
// hold at most N × ChunkSize.
//
// Requests are retried with exponential backoff on 408, 429, 5xx and
// connection errors (every write replaces a whole object, so retrying one is
// safe), for at most RetryFor per request or upload chunk. New checks the
// bucket once, without retrying unreachable endpoints, so a wrong bucket,
// credentials or endpoint fails in seconds.
package gcs
