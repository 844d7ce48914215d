package servers

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// GitLabConfig is what a GitLab container registry runs with.
type GitLabConfig struct {
	// Storage is the body of the config's storage section in YAML flow
	// style, e.g. "filesystem: {rootdirectory: /x}" or "s3: {...}";
	// "delete: {enabled: true}" is added.
	Storage string
	// Postgres and DBName say where the metadata database is; the database
	// section is enabled: true with password auth and sslmode disable.
	Postgres *Postgres
	DBName   string
	// Env is added to the registry's environment ("K=V"), e.g.
	// REGISTRY_FF_ENFORCE_LOCKFILES=true.
	Env []string
}

// GitLabRegistry is a running GitLab container registry.
type GitLabRegistry struct {
	Host    string // "localhost:PORT": crane uses plain http for localhost
	Port    int
	Config  string // the config.yml it serves with (holds the database password)
	Process *Process
}

// YAML is the registry config for cfg, listening on 127.0.0.1:port.
func (cfg GitLabConfig) YAML(port int) string {
	pg := cfg.Postgres
	return fmt.Sprintf(`version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage:
  %s
  delete: {enabled: true}
  redirect: {disable: true}
database:
  enabled: true
  host: %s
  port: %d
  user: %s
  password: %s
  dbname: %s
  sslmode: disable
http: {addr: "127.0.0.1:%d", secret: regbackup-test-secret}
`, cfg.Storage, pg.Host, pg.Port, pg.User, pg.Password, cfg.DBName, port)
}

// GitLabRegistryBin is .tools/bin/gitlab-registry (built by setup.sh with
// ../shared/tools/gitlab-registry/build.sh); missing skips the test, or
// fails it when CI=true.
func GitLabRegistryBin(t testing.TB) string {
	t.Helper()
	return Tool(t, "gitlab-registry")
}

// StartGitLabRegistry writes cfg's config.yml into a temp dir, runs
// `gitlab-registry database migrate up` on it (a few seconds on a database
// cloned from MigratedTemplate, ~50 s on an empty one), then `serve` on a
// free loopback port, and stops the registry at the end of t.
func StartGitLabRegistry(t testing.TB, cfg GitLabConfig) *GitLabRegistry {
	t.Helper()
	bin := GitLabRegistryBin(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	env := append([]string{"AWS_CA_BUNDLE="}, cfg.Env...)
	write := func(port int) {
		if err := os.WriteFile(conf, []byte(cfg.YAML(port)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	if out, err := gitlabMigrate(bin, conf, env); err != nil {
		t.Fatalf("gitlab-registry database migrate up: %v\n%s", err, out)
	}
	port, p := StartOnFreePort(t, "gitlab-registry", func(port int) *Process {
		write(port)
		return Start(t, env, bin, "serve", conf)
	}, func(port int, p *Process) bool { return serving(port, 60*time.Second, p.Exited) })
	return &GitLabRegistry{Host: "localhost:" + strconv.Itoa(port), Port: port, Config: conf, Process: p}
}

// gitlabMigrate runs `database migrate up` with the config conf.
func gitlabMigrate(bin, conf string, env []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "database", "migrate", "up", conf)
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

// serving waits until GET /v2/ answers (200 or 401).
func serving(port int, timeout time.Duration, exited <-chan struct{}) bool {
	if !Listening(port, timeout, exited) {
		return false
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/v2/", port)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

var (
	templateMu   sync.Mutex
	templateName string
)

// MigratedTemplate returns the name of a database in pg that `gitlab-registry
// database migrate up` brought to the pinned registry's newest schema, made
// once per test run (~50 s). Clone it per test with pg.NewDatabase(t, name):
// that is what a freshly installed GitLab registry's database holds.
func MigratedTemplate(t testing.TB, pg *Postgres) string {
	t.Helper()
	bin := GitLabRegistryBin(t)
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateName != "" {
		return templateName
	}
	name := "gitlab_registry_migrated"
	pg.Exec(t, "postgres", "DROP DATABASE IF EXISTS "+name, "CREATE DATABASE "+name)
	dir := filepath.Join(pg.Dir, "template")
	if err := os.MkdirAll(filepath.Join(dir, "storage"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "config.yml")
	cfg := GitLabConfig{Storage: "filesystem: {rootdirectory: " + filepath.Join(dir, "storage") + "}", Postgres: pg, DBName: name}
	if err := os.WriteFile(conf, []byte(cfg.YAML(0)), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, err := gitlabMigrate(bin, conf, nil); err != nil {
		t.Fatalf("gitlab-registry database migrate up (template): %v\n%s", err, out)
	}
	t.Logf("migrated the template database %s in %s", name, time.Since(start).Round(time.Millisecond))
	templateName = name
	return name
}

// FilesystemStorage is the storage section body for a filesystem root.
func FilesystemStorage(root string) string {
	return "filesystem: {rootdirectory: " + strconv.Quote(root) + "}"
}

// S3Storage is the storage section body for bucket/root on versitygw, for
// GitLab's s3 driver.
func (s *S3Server) S3Storage(bucket, root string) string {
	return fmt.Sprintf(`s3: {accesskey: %s, secretkey: %s, region: %s, regionendpoint: %q, forcepathstyle: true, bucket: %s, rootdirectory: %q, secure: false, v4auth: true, chunksize: 5242880}`,
		s.AccessKey, s.SecretKey, s.Region, s.Endpoint, bucket, "/"+strings.TrimPrefix(root, "/"))
}
