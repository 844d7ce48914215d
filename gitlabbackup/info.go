package gitlabbackup

import (
	"fmt"
	"strconv"
	"strings"
)

// InfoName is the name of GitLab's description of a backup in the outer tar.
const InfoName = "backup_information.yml"

// maxInfoSize bounds backup_information.yml (a few hundred bytes in practice).
const maxInfoSize = 1 << 20

// Info is what backup_information.yml says about a GitLab backup.
type Info struct {
	GitLabVersion    string   `json:"gitlab_version,omitempty"`
	CreatedAt        string   `json:"backup_created_at,omitempty"` // as GitLab wrote it
	BackupID         string   `json:"backup_id,omitempty"`
	InstallationType string   `json:"installation_type,omitempty"`
	DBVersion        string   `json:"db_version,omitempty"`
	Skipped          []string `json:"skipped,omitempty"` // parts left out (SKIP=...)
	// Fields holds every key as written, without the leading colon.
	Fields map[string]string `json:"-"`
}

// SkippedPart reports whether the backup was made without the named part
// (e.g. "registry").
func (i *Info) SkippedPart(part string) bool {
	for _, s := range i.Skipped {
		if s == part {
			return true
		}
	}
	return false
}

// String is one line for people: "GitLab 18.6.1 (omnibus-gitlab), backup
// 1764555303_2026_12_01_18.6.1 created 2026-12-01 18:15:03 +00:00".
func (i *Info) String() string {
	s := "GitLab " + orUnknown(i.GitLabVersion)
	if i.InstallationType != "" {
		s += " (" + i.InstallationType + ")"
	}
	if i.BackupID != "" {
		s += ", backup " + i.BackupID
	}
	return s + ", created " + orUnknown(i.CreatedAt)
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// ParseInfo reads backup_information.yml: a flat Ruby YAML mapping with
// symbol keys (":gitlab_version: 18.6.1"), GitLab having stripped the
// leading "---". Only flat "key: scalar" lines are read; nested values
// (":repositories_storages:" lists in some versions) are kept as written
// on their first line. A file that has no ":key:" line at all is an error.
func ParseInfo(data []byte) (*Info, error) {
	info := &Info{Fields: map[string]string{}}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line == "---" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, " ") ||
			strings.HasPrefix(line, "-") {
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			key, ok = strings.CutSuffix(line, ":")
		}
		if !ok || key == "" {
			return nil, fmt.Errorf("%s line %d: not a \"key: value\" line: %.80q", InfoName, n+1, line)
		}
		info.Fields[strings.TrimPrefix(key, ":")] = unquote(strings.TrimSpace(val))
	}
	if len(info.Fields) == 0 {
		return nil, fmt.Errorf("%s holds no keys", InfoName)
	}
	f := info.Fields
	info.GitLabVersion, info.CreatedAt, info.BackupID = f["gitlab_version"], f["backup_created_at"], f["backup_id"]
	info.InstallationType, info.DBVersion = f["installation_type"], f["db_version"]
	for _, s := range strings.Split(f["skipped"], ",") {
		if s = strings.TrimSpace(s); s != "" {
			info.Skipped = append(info.Skipped, s)
		}
	}
	return info, nil
}

// unquote removes YAML's single or double quotes around a scalar.
func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'")
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if s, err := strconv.Unquote(v); err == nil {
			return s
		}
	}
	return v
}
