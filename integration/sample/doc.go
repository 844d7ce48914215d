// Package sample writes a realistic Docker Distribution registry storage tree
// through a drivers.Driver, for tests and benchmarks, without a network or a
// running registry.
//
// Generate lays the files out byte for byte as Distribution 2.8 / 3.x would
// after a series of pushes and one delete (see docs/registry-layout.md):
//
//   - alpha: Docker schema2 images; tag "latest" moved from 1.0's image to
//     2.0's (its tag index holds both digests); tag 0.9's manifest deleted by
//     digest (revisions link and tag gone, blobs and _layers links kept); an
//     upload in progress.
//   - alpha/tools: a repository inside another repository's folder.
//   - team/beta: OCI images; the v1 manifest has no mediaType field.
//   - group/sub/app: Docker schema2, sharing layers with alpha and team/beta.
//   - multi: a Docker manifest list and an OCI index over two platform images
//     each; the children are untagged but have revisions and _layers links.
//   - small/r0000, small/r0001, ...: with Options.SmallFiles, many tiny images.
//   - one blob nothing references (garbage).
//
// Layers are real gzip'd tars (one file of random, incompressible bytes,
// deflate "stored" blocks) whose sizes are exact, and configs carry their
// true diff IDs: a registry serving the tree passes `crane validate` for
// every tag. Layer bytes come from ChaCha8 streams seeded by Options.Seed,
// so output is identical for the same Options, and big layers are streamed
// twice (hash, then write), never held in memory.
//
// The returned Registry describes what was written, so tests can check a
// backup or restore against it. Its Garbage lists the blobs no link names
// (the garbage blob and the deleted manifest); a registry GC would also
// delete the deleted image's config and unique layers, which keep their
// _layers links.
package sample
