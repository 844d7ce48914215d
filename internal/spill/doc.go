// Package spill holds what a run over a big registry must remember but
// need not keep in memory: records sorted on disk in bounded memory
// (Sorter: sorted runs in temporary files, then a k-way merge) and a set of
// fixed-width keys on disk (KeySet: one sorted file and a sparse index, for
// "have we seen this digest?").
//
// Records are byte strings compared bytewise: callers encode what they
// sort so that byte order is the order they want (a digest's 32 bytes
// first, say). Files go in a folder the caller gives (os.TempDir() when
// ""); Close removes them. Nothing here is safe for concurrent use.
//
// It is for the metadata of millions of tags (link files, the blob plan,
// the catalog's lists); blob bytes never pass through it.
package spill
