package main

import (
	"fmt"
	"strings"
)

// exitCodeInfo is one exit code and the words for it.
type exitCodeInfo struct {
	Code   int
	Status string // the --json outcome's "status"
	Name   string // a word or two: --help and the metrics' HELP line
	Detail string // what --help adds after Name, in parentheses ("" for nothing)
	// Meaning is the README's "meaning" column.
	Meaning string
}

// exitCodes is every exit code regbackup returns, in order: the one table
// statusOf, --help (exitCodesHelp), the metrics' HELP line (exitCodesNames)
// and the README's table (exitCodesMarkdown) are made from.
// exitcodes_test.go checks the README's table and every "exit N" that
// README.md and docs/operations.md mention against it. exitCode decides
// which code an error gets.
var exitCodes = []exitCodeInfo{
	{exitOK, "ok", "ok", "",
		"success (check: no damage; orphans and stale uploads are notices)"},
	{exitError, "error", "error", "",
		"unreachable or missing location, missing archive file or object, full disk, permissions, metrics file not writable, a GitLab backup made without its registry (`SKIP=registry`)..."},
	{exitUsage, "usage", "usage", "",
		"a missing or wrong flag or argument"},
	{exitIntegrity, "damaged", "integrity",
		"corrupt, truncated or incomplete archive, a parent that is not the one an incremental was made on, or a damaged source or storage",
		"integrity: corrupt, truncated or incomplete archive (or GitLab backup: a blob that fails its digest, malformed or dangling link files), hostile entries, not a regbackup archive, a parent that is not the one an incremental was made on, a tampered encrypted archive, (backup, copy) a damaged source, (check) damaged storage"},
	{exitLocked, "locked", "locked", "another run holds the storage",
		"another backup, restore, copy or check holds the same storage on this host (the error names it); retry later or use `--wait`"},
	{exitParent, "missing_parent", "parent archive missing", "one an incremental needs",
		"a parent archive an incremental needs is missing (the error names it; put it beside the archive or pass `--parent FILE` or `URL`)"},
	{exitKey, "no_key", "no usable identity", "an encrypted archive and no identity that decrypts it",
		"an encrypted archive and no `--identity`, or none of the identities given can decrypt it"},
	{exitInterrupted, "interrupted", "interrupted", "",
		"Ctrl-C or SIGTERM: temp files removed, no partial archive or object left, no link written (an interrupted copy is finished by running it again)"},
}

// statusOf is the --json status of an exit code ("error" for one not in
// the table).
func statusOf(code int) string {
	for _, e := range exitCodes {
		if e.Code == code {
			return e.Status
		}
	}
	return "error"
}

// exitCodesNames is "0 ok, 1 error, ..., 130 interrupted".
func exitCodesNames() string {
	var parts []string
	for _, e := range exitCodes {
		parts = append(parts, fmt.Sprintf("%d %s", e.Code, e.Name))
	}
	return strings.Join(parts, ", ")
}

// exitCodesHelp is the exit codes paragraph of --help, wrapped at width
// columns.
func exitCodesHelp(width int) string {
	var parts []string
	for _, e := range exitCodes {
		p := fmt.Sprintf("%d %s", e.Code, e.Name)
		if e.Detail != "" {
			p += " (" + e.Detail + ")"
		}
		parts = append(parts, p)
	}
	return wrap("Exit codes: "+strings.Join(parts, ", ")+".", width)
}

// exitCodesMarkdown is the README's table of exit codes.
func exitCodesMarkdown() string {
	var b strings.Builder
	b.WriteString("| code | `--json` status | meaning |\n|---|---|---|\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "| %d | `%s` | %s |\n", e.Code, e.Status, e.Meaning)
	}
	return b.String()
}

// wrap breaks s into lines of at most width columns at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	col := 0
	for i, w := range strings.Fields(s) {
		switch {
		case i == 0:
		case col+1+len(w) > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
