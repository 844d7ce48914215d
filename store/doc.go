// Package store is where archives live: a local folder (LocalStore) or a
// folder-like prefix of an object store (DriverStore), both behind
// ArchiveStore, with all-or-nothing writes. Beside each archive it keeps a
// sidecar (NAME.meta.json: what the archive holds, without reading it); it
// finds the archive an incremental backup builds on (FindBase), locates the
// parents of an incremental (ParentFinder), expands archive names
// ({date}, {time}) and prunes a folder by a keep policy without ever
// breaking a kept chain (Prune).
//
// It is not for the archive format (package archive), for writing or
// reading archive content (packages backup and restore), or for registry
// storage (packages drivers and snapshot).
package store
