package filesystem

// IsTempName reports whether a file name (no folder) is a temp file this
// driver or Distribution's filesystem driver writes before a rename: what
// a copy of a registry folder taken while it was written may hold, and
// what a restore must never put back.
func IsTempName(name string) bool { return isTempName(name) }
