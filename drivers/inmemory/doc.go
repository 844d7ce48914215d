// Package inmemory is a Driver that keeps files in a map, for fast unit tests
// of code written against drivers.Driver.
//
// It follows the same contract as the filesystem driver: Put is all or
// nothing and rejects the same bad paths, Walk is lexical, missing files give
// drivers.ErrNotFound. Files are plain keys: there are no folders, so a path
// may be both a file and a prefix of other files.
//
// It registers the "inmemory" scheme: "inmemory://" opens a fresh empty
// store on every call; "inmemory://name" opens the store called name,
// created empty on first use and shared by every later Open of that name in
// the process (so a test can write through one Driver and read through
// another).
package inmemory
