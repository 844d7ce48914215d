package store

import (
	"path/filepath"
	"strings"
	"time"
)

// Placeholders in an archive name (backup -o, prune DEST), expanded in
// local time (set TZ=UTC for UTC names).
const (
	DatePlaceholder = "{date}" // YYYY-MM-DD
	TimePlaceholder = "{time}" // HHMMSS
)

// ExpandName replaces the placeholders in name with t's local date and
// time.
func ExpandName(name string, t time.Time) string {
	t = t.Local()
	name = strings.ReplaceAll(name, DatePlaceholder, t.Format("2006-01-02"))
	return strings.ReplaceAll(name, TimePlaceholder, t.Format("150405"))
}

// HasPlaceholder reports whether name holds {date} or {time}.
func HasPlaceholder(name string) bool {
	return strings.Contains(name, DatePlaceholder) || strings.Contains(name, TimePlaceholder)
}

// NameGlob turns an archive name pattern into a path.Match pattern for
// its file name: the archives the same command line wrote on other days.
// Glob metacharacters in the rest of the name match only themselves.
func NameGlob(pattern string) string {
	base := filepath.Base(pattern)
	var b strings.Builder
	for len(base) > 0 {
		switch {
		case strings.HasPrefix(base, DatePlaceholder):
			b.WriteString("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")
			base = base[len(DatePlaceholder):]
		case strings.HasPrefix(base, TimePlaceholder):
			b.WriteString("[0-9][0-9][0-9][0-9][0-9][0-9]")
			base = base[len(TimePlaceholder):]
		default:
			c := base[0]
			if strings.IndexByte(`*?[\`, c) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
			base = base[1:]
		}
	}
	return b.String()
}
