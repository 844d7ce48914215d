// Package archive reads and writes regbackup archives: a standard tar stream,
// compressed with zstd, gzip or nothing, whose entries keep the registry's
// own storage paths so that `tar -x` into an empty folder gives a registry
// that serves.
//
// Entry order, enforced by Writer and checked by Reader:
//
//	.regbackup/catalog.json           first: what the snapshot saw (Catalog)
//	.regbackup/catalog/000001 ...     a big catalog's parts (regbackup/3, see catalog_writer.go)
//	docker/registry/v2/blobs/...      blob data, each verified against its digest
//	docker/registry/v2/repositories/  link files, only for blobs written above
//	.regbackup/files/...              included files (key material)
//	.regbackup/trailer.json           last: marks the archive complete (Trailer)
//
// The package knows the registry's path layout well enough to accept only
// well-formed entries (see ParsePath); it knows nothing of storage drivers.
// Reader verifies every blob's sha256 while it is read and rejects absolute
// paths, "..", links, devices and anything outside the two allowed trees.
package archive
