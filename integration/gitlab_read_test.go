package integration

// gitlabbackup reads real GitLab-style backups of crane-pushed registries.

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/gitlabbackup"
)

// TestGitLabBackupRead reads a GitLab backup of each registry version in
// every form, and checks that it yields exactly the blobs and link files of
// the registry folder it was made from, every blob intact.
func TestGitLabBackupRead(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, _ := seedRegistry(t, v)
		r.Stop()
		var wantBlobs, wantLinks int
		walkFiles(t, root, func(rel string, _ fs.FileInfo) {
			switch p := archive.ParsePath(rel); {
			case p.Kind == archive.KindBlob:
				wantBlobs++
			case p.Kind.IsLink():
				wantLinks++
			}
		})
		for _, c := range []struct {
			name string
			o    GitLabBackupOptions
			open func(b GitLabBackup) (*gitlabbackup.Reader, error)
			form gitlabbackup.Form
		}{
			{"outer tar", GitLabBackupOptions{}, openTar, gitlabbackup.FormBackup},
			{"outer tar, information last, zstd", GitLabBackupOptions{InfoLast: true, Zstd: true}, openTar, gitlabbackup.FormBackup},
			{"registry.tar.gz", GitLabBackupOptions{}, func(b GitLabBackup) (*gitlabbackup.Reader, error) {
				f, err := os.Open(filepath.Join(b.Folder, gitlabbackup.RegistryPart))
				if err != nil {
					return nil, err
				}
				t.Cleanup(func() { f.Close() })
				return gitlabbackup.Open(f, gitlabbackup.Options{})
			}, gitlabbackup.FormRegistry},
			{"folder", GitLabBackupOptions{Database: "CREATE TABLE x();"}, func(b GitLabBackup) (*gitlabbackup.Reader, error) {
				return gitlabbackup.OpenFolder(b.Folder, gitlabbackup.Options{})
			}, gitlabbackup.FormFolder},
		} {
			t.Run(c.name, func(t *testing.T) {
				b := MakeGitLabBackup(t, root, c.o)
				rd, err := c.open(b)
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
				blobs, links := 0, 0
				for {
					e, err := rd.Next()
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					if e.Path.Kind == archive.KindBlob {
						if _, err := io.Copy(io.Discard, e.Body); err != nil {
							t.Fatalf("%s: %v", e.Name, err)
						}
						blobs++
					} else {
						links++
					}
				}
				if blobs != wantBlobs || links != wantLinks || len(rd.Mismatches()) != 0 {
					t.Errorf("read %d blobs, %d links (%d mismatches); the folder holds %d and %d",
						blobs, links, len(rd.Mismatches()), wantBlobs, wantLinks)
				}
				if rd.Form() != c.form {
					t.Errorf("form %q, want %q", rd.Form(), c.form)
				}
				if c.form != gitlabbackup.FormRegistry && (rd.Info() == nil || rd.Info().BackupID != b.ID) {
					t.Errorf("information %+v, want backup %s", rd.Info(), b.ID)
				}
				if (c.o.Database != "") != (rd.Database() != nil) {
					t.Errorf("database part %+v", rd.Database())
				}
				for _, n := range rd.Notes() {
					if n.Damage || !strings.Contains(n.Path, "_uploads") {
						t.Logf("note: %+v", n)
					}
				}
			})
		}
	})
}

func openTar(b GitLabBackup) (*gitlabbackup.Reader, error) {
	f, err := os.Open(b.Tar)
	if err != nil {
		return nil, err
	}
	return gitlabbackup.Open(f, gitlabbackup.Options{})
}
