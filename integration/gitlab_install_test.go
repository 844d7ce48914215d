package integration

// --gitlab against an Omnibus-shaped tree under --gitlab-root: config,
// storage, token key and certificate at GitLab's paths.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// omnibusTree lays out an Omnibus install under root: the registry config
// naming the storage and the certificate, the key (0600, owned by uid:gid)
// and the certificate. It returns the storage folder.
func omnibusTree(t testing.TB, root string, uid, gid int) string {
	t.Helper()
	storage := filepath.Join(root, "var/opt/gitlab/gitlab-rails/shared/registry")
	files := []struct {
		path, content string
		mode          os.FileMode
		uid, gid      int
	}{
		{"var/opt/gitlab/registry/config.yml", `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/opt/gitlab/gitlab-rails/shared/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
  secret: "omnibus-http-secret"
auth:
  token:
    realm: https://gitlab.example.com/jwt/auth
    service: container_registry
    issuer: omnibus-gitlab-issuer
    rootcertbundle: /var/opt/gitlab/registry/gitlab-registry.crt
    autoredirect: false
`, 0o644, 0, 0},
		{"var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEomnibus\n-----END RSA PRIVATE KEY-----\n", 0o600, uid, gid},
		{"var/opt/gitlab/registry/gitlab-registry.crt", "-----BEGIN CERTIFICATE-----\nMIIComnibus\n-----END CERTIFICATE-----\n", 0o644, 0, gid},
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.content), f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, f.uid, f.gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(storage, 0o770); err != nil {
		t.Fatal(err)
	}
	return storage
}

// TestGitLabOmnibusRoundTrip: backup --gitlab --gitlab-root picks the
// config, the storage it names, the key and the certificate; after they
// are lost, restore --gitlab --files-to-original puts the key back with
// mode 0600 and its owner, the storage serves the fixture again, and the
// output says what to restart. A GitLab backup restores into the
// install's storage with --gitlab alone.
func TestGitLabOmnibusRoundTrip(t *testing.T) {
	t.Parallel()
	needRoot(t, "the key is owned by GitLab's user")
	root := t.TempDir()
	const uid, gid = 998, 997
	storage := omnibusTree(t, root, uid, gid)
	key := filepath.Join(root, "var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key")
	cert := filepath.Join(root, "var/opt/gitlab/registry/gitlab-registry.crt")
	keyBytes, _ := os.ReadFile(key)
	certBytes, _ := os.ReadFile(cert)
	r := StartRegistry(t, V3, storage)
	f := PushFixture(t, r)
	r.Stop()

	a := filepath.Join(t.TempDir(), "registry.tar.zst")
	_, stderr := mustRegbackup(t, 0, "backup", "--gitlab", "--gitlab-root", root, "-o", a)
	for _, want := range []string{"Omnibus install under " + root, filepath.Join(root, "var/opt/gitlab/registry/config.yml"),
		"storage " + storage, "token signing key " + key, "token certificate " + cert} {
		if !strings.Contains(stderr, want) {
			t.Errorf("backup --gitlab does not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "omnibus-http-secret") {
		t.Errorf("backup --gitlab printed the config's http secret:\n%s", stderr)
	}
	mustRegbackup(t, 0, "check", "--gitlab", "--gitlab-root", root)

	// The disaster: storage emptied, key and certificate gone.
	emptyDir(t, storage)
	os.Remove(key)
	os.Remove(cert)

	_, stderr = mustRegbackup(t, 0, "restore", a, "--gitlab", "--gitlab-root", root, "--files-to-original")
	if !strings.Contains(stderr, "gitlab-ctl restart registry") {
		t.Errorf("restore --gitlab does not say which service to restart:\n%s", stderr)
	}
	if b, err := os.ReadFile(key); err != nil || !bytes.Equal(b, keyBytes) {
		t.Fatalf("key not restored: %v", err)
	}
	if st := statT(t, key); st.Mode&0o777 != 0o600 || st.Uid != uid || st.Gid != gid {
		t.Errorf("key restored with mode %04o owner %d:%d, want 0600 %d:%d", st.Mode&0o777, st.Uid, st.Gid, uid, gid)
	}
	if b, err := os.ReadFile(cert); err != nil || !bytes.Equal(b, certBytes) {
		t.Errorf("certificate not restored: %v", err)
	}
	r2 := StartRegistry(t, V3, storage)
	CheckServes(t, r2, f)
	r2.Stop()

	// A new host, GitLab installed under another root (a disk mounted
	// there): the key goes to that install's path, not the backed-up one.
	other := t.TempDir()
	omnibusTree(t, other, 0, 0)
	otherKey := filepath.Join(other, "var/opt/gitlab/gitlab-rails/etc/gitlab-registry.key")
	os.Remove(otherKey)
	mustRegbackup(t, 0, "restore", a, "--gitlab", "--gitlab-root", other, "--files-to-original")
	if b, err := os.ReadFile(otherKey); err != nil || !bytes.Equal(b, keyBytes) {
		t.Errorf("key not restored under the other root: %v", err)
	} else if st := statT(t, otherKey); st.Mode&0o777 != 0o600 || st.Uid != uid || st.Gid != gid {
		t.Errorf("key under the other root: mode %04o owner %d:%d, want 0600 %d:%d", st.Mode&0o777, st.Uid, st.Gid, uid, gid)
	}

	// GitLab's own backup of the same storage, restored with --gitlab
	// alone: into the install's storage; the key is said to be kept.
	b := MakeGitLabBackup(t, storage, GitLabBackupOptions{})
	emptyDir(t, storage)
	_, stderr = mustRegbackup(t, 0, "restore", b.Tar, "--gitlab", "--gitlab-root", root)
	if !strings.Contains(stderr, "holds no key material") || !strings.Contains(stderr, "present, left as it is") {
		t.Errorf("restore of a GitLab backup with --gitlab does not say what became of the key:\n%s", stderr)
	}
	r3 := StartRegistry(t, V3, storage)
	CheckServes(t, r3, f)
}
