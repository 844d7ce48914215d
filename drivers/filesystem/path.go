package filesystem

import (
	"errors"
	"path/filepath"
	"strings"
)

// checkPath accepts a canonical slash-separated relative file path: not
// empty, not absolute, no NUL byte, no empty, "." or ".." element, and (on
// systems whose separator is not "/") no separator or volume name.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty")
	case strings.IndexByte(p, 0) >= 0:
		return errors.New("contains a NUL byte")
	case p[0] == '/':
		return errors.New("absolute")
	case filepath.Separator != '/' && strings.ContainsRune(p, filepath.Separator),
		filepath.VolumeName(filepath.FromSlash(p)) != "":
		return errors.New("contains an OS path separator or volume name")
	}
	for elem := range strings.SplitSeq(p, "/") {
		switch elem {
		case "":
			return errors.New(`empty element (leading, trailing or doubled "/")`)
		case ".":
			return errors.New(`"." element`)
		case "..":
			return errors.New(`".." element`)
		}
	}
	return nil
}

// checkPrefix accepts what Walk takes: "" for everything, or a path as
// checkPath accepts, optionally with one trailing "/", which it drops.
func checkPrefix(prefix string) (string, error) {
	if prefix == "" {
		return "", nil
	}
	if prefix[0] == '/' {
		return "", errors.New("absolute")
	}
	p := strings.TrimSuffix(prefix, "/")
	return p, checkPath(p)
}
