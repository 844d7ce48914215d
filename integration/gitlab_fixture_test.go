package integration

// GitLab's own registry backups, made exactly as gitlab-backup makes them
// (lib/backup/...: `tar --exclude=lost+found -C ROOT -cf - . | gzip -c -1`,
// backup_information.yml with GitLab's keys, an outer tar of the parts).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// GitLabBackupOptions shape a GitLab backup.
type GitLabBackupOptions struct {
	// Zstd compresses registry.tar.gz with `zstd -1` (COMPRESS_CMD) instead
	// of `gzip -c -1`; GitLab keeps the name.
	Zstd bool
	// InfoLast puts backup_information.yml last in the outer tar, as
	// gitlab-backup before 16.x did (newer ones put it first).
	InfoLast bool
	// Skipped is backup_information.yml's :skipped: value.
	Skipped string
	// Database adds db/registry_database.sql.gz with this SQL (GitLab 18.10+).
	Database string
	// NoRegistry leaves registry.tar.gz out (as SKIP=registry does).
	NoRegistry bool
}

// GitLabBackup is a GitLab backup made of a registry root.
type GitLabBackup struct {
	Tar    string // <backup_id>_gitlab_backup.tar
	Folder string // the same parts, as the outer tar extracts into
	ID     string // backup_id
}

// MakeGitLabBackup makes a GitLab backup of the registry folder root.
func MakeGitLabBackup(t testing.TB, root string, o GitLabBackupOptions) GitLabBackup {
	t.Helper()
	base := t.TempDir()
	folder := filepath.Join(base, "backups", "tmp")
	if err := os.MkdirAll(filepath.Join(folder, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 1, 18, 15, 3, 0, time.UTC)
	id := fmt.Sprintf("%d_%s_18.6.1", created.Unix(), created.Format("2006_01_02"))
	var parts []string
	if o.InfoLast {
		parts = []string{"db", "uploads.tar.gz"}
	} else {
		parts = []string{"backup_information.yml", "db", "uploads.tar.gz"}
	}
	shell(t, "tar -C /etc -cf - hostname 2>/dev/null | gzip -c -1 > "+q(filepath.Join(folder, "uploads.tar.gz")))
	shell(t, "echo 'SELECT 1;' | gzip -c -1 > "+q(filepath.Join(folder, "db", "database.sql.gz")))
	if o.Database != "" {
		shell(t, "printf '%s' "+q(o.Database)+" | gzip -c -1 > "+q(filepath.Join(folder, "db", "registry_database.sql.gz")))
	}
	if !o.NoRegistry {
		compress := "gzip -c -1"
		if o.Zstd {
			compress = "zstd -q -1 -c"
		}
		shell(t, "tar --exclude=lost+found -C "+q(root)+" -cf - . | "+compress+" > "+q(filepath.Join(folder, "registry.tar.gz")))
		parts = append(parts, "registry.tar.gz")
	}
	if o.InfoLast {
		parts = append(parts, "backup_information.yml")
	}
	info := fmt.Sprintf(`:db_version: 20251120120000
:backup_created_at: %s
:gitlab_version: 18.6.1
:tar_version: %s
:installation_type: omnibus-gitlab
:skipped: %s
:repositories_storages: default
:repositories_server_side: false
:backup_id: %s
`, created.Format("2006-01-02 15:04:05.000000000 -07:00"), firstLine(shell(t, "tar --version")), o.Skipped, id)
	if err := os.WriteFile(filepath.Join(folder, "backup_information.yml"), []byte(info), 0o600); err != nil {
		t.Fatal(err)
	}
	outer := filepath.Join(base, "backups", id+"_gitlab_backup.tar")
	shell(t, "tar -cf "+q(outer)+" -C "+q(folder)+" "+strings.Join(parts, " ")+" && chmod 0600 "+q(outer))
	return GitLabBackup{Tar: outer, Folder: folder, ID: id}
}

// shell runs a bash pipeline and returns its stdout (pipefail: any failure fails the test).
func shell(t testing.TB, script string) string {
	t.Helper()
	out, err := exec.Command("bash", "-o", "pipefail", "-c", script).Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s: %v\n%s", script, err, stderr)
	}
	return string(out)
}

// q quotes s for bash.
func q(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(l)
}
