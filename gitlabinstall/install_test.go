package gitlabinstall

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const omnibusConfig = `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: /var/opt/gitlab/gitlab-rails/shared/registry
  cache:
    blobdescriptor: inmemory
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
  secret: "c2VjcmV0"
auth:
  token:
    realm: https://gitlab.example.com/jwt/auth
    service: container_registry
    issuer: omnibus-gitlab-issuer
    rootcertbundle: /var/opt/gitlab/registry/gitlab-registry.crt
    autoredirect: false
`

func write(t *testing.T, root, p, content string) {
	t.Helper()
	full := filepath.Join(root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOmnibusUnderRoot(t *testing.T) {
	root := t.TempDir()
	write(t, root, OmnibusConfig, omnibusConfig)
	write(t, root, OmnibusKey, "-----BEGIN RSA PRIVATE KEY-----\n")
	in, err := Find(Options{Root: root, Env: []string{"GITLAB_REGISTRY_DIRX=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != Omnibus || in.Config == nil || in.Config.Driver != "filesystem" {
		t.Fatalf("%+v", in)
	}
	if got := in.Config.Params["rootdirectory"]; got != filepath.Join(root, "/var/opt/gitlab/gitlab-rails/shared/registry") {
		t.Errorf("storage %v", got)
	}
	key, cert := in.File(RoleKey), in.File(RoleCert)
	if key.Path != OmnibusKey || key.Local != filepath.Join(root, OmnibusKey) {
		t.Errorf("key %+v", key)
	}
	if cert.Path != OmnibusCert || !strings.Contains(cert.From, "rootcertbundle") {
		t.Errorf("cert %+v", cert)
	}
	desc := strings.Join(in.Describe(), "\n")
	if strings.Contains(desc, "c2VjcmV0") || !strings.Contains(desc, "gitlab-ctl restart registry") {
		t.Errorf("describe:\n%s", desc)
	}

	// gitlab.rb moves the key.
	write(t, root, OmnibusGitLabRB, "# gitlab_rails['registry_key_path'] = \"/old\"\ngitlab_rails['registry_key_path'] = \"/etc/gitlab/registry.key\"\n")
	in, err = Find(Options{Root: root})
	if err != nil || in.File(RoleKey).Path != "/etc/gitlab/registry.key" {
		t.Fatalf("%v %+v", err, in.File(RoleKey))
	}
}

func TestDockerGitLab(t *testing.T) {
	in, err := Find(Options{Env: []string{"GITLAB_REGISTRY_DIR=/srv/registry", "GITLAB_REGISTRY_KEY_PATH=/certs/registry-auth.key"}})
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != DockerGitLab || in.Storage != "/srv/registry" || in.File(RoleKey).Path != "/certs/registry-auth.key" ||
		in.File(RoleCert).Path != "/certs/registry.crt" {
		t.Errorf("%+v", in)
	}
	in, _ = Find(Options{Env: []string{"GITLAB_REGISTRY_DIR=/srv/registry", "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE=/c/ca.crt"}})
	if in.File(RoleCert).Path != "/c/ca.crt" || in.File(RoleKey).Path != DockerKey {
		t.Errorf("%+v", in.Files)
	}
	// Under a root: its default folder is enough.
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, DockerRegistryDir), 0o755)
	if in, err := Find(Options{Root: root}); err != nil || in.Storage != filepath.Join(root, DockerRegistryDir) {
		t.Errorf("%v %+v", err, in)
	}
}

func TestHelmAndNotFound(t *testing.T) {
	if _, err := Find(Options{Root: t.TempDir()}); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "Helm") {
		t.Errorf("got %v", err)
	}
	in, err := Find(Options{Helm: true, Storage: "s3://registry", Key: "/tmp/registry-auth.key", Cert: "/tmp/registry-auth.crt"})
	if err != nil || in.Kind != Helm || in.Storage != "s3://registry" || in.File(RoleKey).Local != "/tmp/registry-auth.key" {
		t.Errorf("%v %+v", err, in)
	}
	if _, err := Find(Options{Helm: true}); err == nil {
		t.Error("Helm without storage accepted")
	}
}
