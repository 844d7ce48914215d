package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/regbackup/regbackup/drivers"
)

// IsObjectURL reports whether arg names an archive in an object store
// (s3://, gs://, azure://, ...) rather than a local file (a path or
// file://).
func IsObjectURL(arg string) bool {
	i := strings.Index(arg, "://")
	return i > 0 && arg[:i] != "file"
}

// SplitArchiveURL splits an archive argument into the location of its
// folder and its name. A path splits at its last separator; file:///p is
// the path /p. An object URL splits at the last "/" of its path, and the
// query (?region=&endpoint=...) stays with the folder. A URL that names
// no object (a bucket only, or ending in "/") is an error.
func SplitArchiveURL(arg string) (folder, name string, err error) {
	if !IsObjectURL(arg) {
		p := strings.TrimPrefix(arg, "file://")
		if p == "" {
			return "", "", fmt.Errorf("empty archive name")
		}
		return filepath.Dir(p), filepath.Base(p), nil
	}
	i := strings.Index(arg, "://")
	scheme, rest := arg[:i], arg[i+3:]
	rest, query, hasQuery := strings.Cut(rest, "?")
	example := scheme + "://BUCKET/PREFIX/registry-{date}.tar.zst"
	j := strings.LastIndex(rest, "/")
	switch {
	case strings.HasSuffix(rest, "/"):
		return "", "", fmt.Errorf("archive %s ends in /: give the object name: %s", redactQuery(arg), example)
	case j <= 0:
		return "", "", fmt.Errorf("archive %s names no object in a bucket: give the object name: %s", redactQuery(arg), example)
	}
	folder, name = scheme+"://"+rest[:j], rest[j+1:]
	if name == "." || name == ".." {
		return "", "", fmt.Errorf("archive %s: %q is not an object name: give the object name: %s", redactQuery(arg), name, example)
	}
	if hasQuery {
		folder += "?" + query
	}
	return folder, name, nil
}

// redactQuery drops the query of a URL for messages: the drivers refuse
// secrets there, but a refused one must not be echoed either.
func redactQuery(u string) string {
	s, _, _ := strings.Cut(u, "?")
	return s
}

// OpenArchiveRef resolves an archive argument (a path, file://, or an
// object URL whose scheme a driver registered) into the store of its
// folder and its name. Opening an object store checks that it can be
// reached (errors come from the driver: one line, no secrets).
func OpenArchiveRef(ctx context.Context, arg string) (ArchiveRef, error) {
	folder, name, err := SplitArchiveURL(arg)
	if err != nil {
		return ArchiveRef{}, err
	}
	st, err := OpenArchiveStore(ctx, folder)
	if err != nil {
		return ArchiveRef{}, err
	}
	return ArchiveRef{Store: st, Name: name}, nil
}

// OpenArchiveStore opens a folder of archives: a local folder (a path or
// file://), or an object URL taken as a prefix (a trailing "/" is allowed).
func OpenArchiveStore(ctx context.Context, folder string) (ArchiveStore, error) {
	if !IsObjectURL(folder) {
		return NewLocalStore(strings.TrimPrefix(folder, "file://")), nil
	}
	base, query, hasQuery := strings.Cut(folder, "?")
	base = strings.TrimSuffix(base, "/")
	loc := base
	if hasQuery {
		loc += "?" + query
	}
	d, err := drivers.Open(ctx, loc)
	if err != nil {
		return nil, err
	}
	return &DriverStore{D: d, Base: base}, nil
}
