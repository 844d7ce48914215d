package drivers

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidPath is returned (wrapped) by every Driver method given a path
// CheckPath rejects; nothing is touched then.
var ErrInvalidPath = errors.New("invalid path")

// CheckPath accepts a canonical slash-separated relative file path: not
// empty, not absolute, no NUL byte, no empty, "." or ".." element. Every
// driver applies it before any I/O, so a path can never reach outside the
// driver's root.
func CheckPath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: empty", ErrInvalidPath)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", ErrInvalidPath)
	case p[0] == '/':
		return fmt.Errorf("%w: absolute", ErrInvalidPath)
	}
	for elem := range strings.SplitSeq(p, "/") {
		switch elem {
		case "":
			return fmt.Errorf(`%w: empty element (leading, trailing or doubled "/")`, ErrInvalidPath)
		case ".", "..":
			return fmt.Errorf("%w: %q element", ErrInvalidPath, elem)
		}
	}
	return nil
}

// CheckPrefix accepts what Walk takes: "" for everything, or a path as
// CheckPath accepts, optionally with one trailing "/", which it drops.
func CheckPrefix(prefix string) (string, error) {
	if prefix == "" {
		return "", nil
	}
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return "", fmt.Errorf("%w: absolute", ErrInvalidPath)
	}
	return p, CheckPath(p)
}
