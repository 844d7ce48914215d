package integration

// backup --registry-config and restore --to-registry-config against real
// registries started from the very config files regbackup reads.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/servers"
)

// htpasswd user of the test configs; the bcrypt hash is of htpasswdPass.
const (
	htpasswdUser = "backup"
	htpasswdPass = "regbackup-test-pw"
	htpasswdHash = "$2a$05$AVG168DfvSK/r7FBbx3n8ue1iPMH/xkhTv4jUfbWZxRngqlkU1cAC"
)

// keyMaterial is the key files written by writeKeyMaterial, relative to
// the registry's working directory (as a config names them).
type keyMaterial struct {
	dir                   string // the registry's working directory
	cert, key, token, htp string // relative paths
	pool                  *x509.CertPool
}

func (k keyMaterial) abs(rel string) string { return filepath.Join(k.dir, rel) }

// writeKeyMaterial generates a self-signed TLS certificate for 127.0.0.1
// and its key, a second certificate for token auth's rootcertbundle, and an
// htpasswd file, below dir.
func writeKeyMaterial(t testing.TB, dir string) keyMaterial {
	t.Helper()
	k := keyMaterial{dir: dir, cert: "certs/domain.crt", key: "certs/domain.key", token: "certs/token.crt",
		htp: "auth/htpasswd", pool: x509.NewCertPool()}
	for _, sub := range []string{"certs", "auth"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	certPEM, keyPEM := selfSigned(t, "127.0.0.1")
	k.pool.AppendCertsFromPEM(certPEM)
	tokenPEM, _ := selfSigned(t, "regbackup test token issuer")
	for rel, b := range map[string][]byte{k.cert: certPEM, k.key: keyPEM, k.token: tokenPEM,
		k.htp: []byte(htpasswdUser + ":" + htpasswdHash + "\n")} {
		if err := os.WriteFile(k.abs(rel), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

// selfSigned returns a PEM certificate for 127.0.0.1/localhost with
// common name cn, and its PKCS#8 PEM key.
func selfSigned(t testing.TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}

// registryConfigFile writes a registry config.yml into k.dir, served with
// TLS on addr, with the given storage section body and auth section body
// (both indented by two spaces per level, without their header line).
func registryConfigFile(t testing.TB, k keyMaterial, name, addr, storage, auth string) string {
	t.Helper()
	indent := func(s string) string {
		var b strings.Builder
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
		return b.String()
	}
	cfg := "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n" + indent(storage) +
		"  maintenance:\n    uploadpurging:\n      enabled: false\n" +
		"auth:\n" + indent(auth) +
		fmt.Sprintf("http:\n  addr: %s\n  secret: regbackup-config-http-secret\n  tls:\n    certificate: %s\n    key: %s\n", addr, k.cert, k.key)
	p := filepath.Join(k.dir, name)
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func htpasswdAuth(k keyMaterial) string {
	return "htpasswd:\n  realm: regbackup-test\n  path: " + k.htp
}

func tokenAuth(k keyMaterial) string {
	return "token:\n  realm: https://gitlab.example.com/jwt/auth\n  service: container_registry\n" +
		"  issuer: gitlab-issuer\n  rootcertbundle: " + k.token
}

// configuredRegistry is a registry process started from a config file in
// its working directory, as a service would be.
type configuredRegistry struct {
	addr   string
	client *http.Client
	cmd    *exec.Cmd
	done   chan struct{}
	log    string
}

// startConfiguredRegistry runs `registry serve NAME` (version v) in k.dir
// with env added, waits until it answers /v2/ over TLS (200 or 401), and
// stops it at cleanup. Any REGISTRY_* variable of the test's own
// environment is dropped.
func startConfiguredRegistry(t testing.TB, v string, k keyMaterial, name, addr string, env []string) *configuredRegistry {
	t.Helper()
	bin := tool(t, map[string]string{V28: "docker-registry", V3: "registry"}[v])
	r := &configuredRegistry{addr: addr, done: make(chan struct{}), log: filepath.Join(t.TempDir(), "registry.log"),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: k.pool}}}}
	logf, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, "serve", name)
	r.cmd.Dir = k.dir
	for _, kv := range os.Environ() {
		if key, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(key, "REGISTRY_") && key != "AWS_CA_BUNDLE" {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	r.cmd.Env = append(append(r.cmd.Env, "OTEL_TRACES_EXPORTER=none"), env...)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = dieWithTest()
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { r.cmd.Wait(); logf.Close(); close(r.done) }()
	t.Cleanup(r.stop)
	deadline := time.Now().Add(RegistryReadyTimeout)
	for {
		select {
		case <-r.done:
			b, _ := os.ReadFile(r.log)
			t.Fatalf("registry %s from %s exited before serving:\n%s", v, name, b)
		default:
		}
		resp, err := r.client.Get("https://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(r.log)
			t.Fatalf("registry %s from %s not ready after %s: %v\n%s", v, name, RegistryReadyTimeout, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *configuredRegistry) stop() {
	if r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// get requests path over TLS, with basic auth when user is set.
func (r *configuredRegistry) get(t testing.TB, path, user, pass string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://"+r.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

// catalog is /v2/_catalog as the htpasswd user.
func (r *configuredRegistry) catalog(t testing.TB) []string {
	t.Helper()
	resp, body := r.get(t, "/v2/_catalog", htpasswdUser, htpasswdPass)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/_catalog as %s: %s %s", htpasswdUser, resp.Status, body)
	}
	var c struct{ Repositories []string }
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("catalog: %v: %s", err, body)
	}
	slices.Sort(c.Repositories)
	return c.Repositories
}

// regbackupIn runs regbackup in dir (relative paths in configs resolve
// there) with env added, and stops the test unless it exits with want.
func regbackupIn(t testing.TB, dir string, env []string, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), RegbackupTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool(t, "regbackup"), args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if key, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(key, "REGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("regbackup %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("regbackup %s (in %s, %v): exit %d in %s", strings.Join(args, " "), dir, env, code, time.Since(start).Round(time.Millisecond))
	if code != want {
		t.Fatalf("regbackup %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, o.String(), e.String())
	}
	return o.String(), e.String()
}

// wantLines fails the test unless every want is a line of out.
func wantLines(t testing.TB, what, out string, want ...string) {
	t.Helper()
	got := strings.Split(out, "\n")
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s lacks the line %q; it was:\n%s", what, w, out)
		}
	}
}

// TestRegistryConfigBackupRestore: a filesystem registry runs from a config
// with TLS and htpasswd (paths relative to its working directory) and its
// root set by REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY. `backup
// --registry-config` with the same file and environment finds the storage
// and the key files; a second config with token auth adds the token
// certificate. `restore --to-registry-config` into another config's root,
// with key files lost or damaged, gives a registry that starts from that
// config and serves the same digests.
func TestRegistryConfigBackupRestore(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, rootA, f := seedRegistry(t, v)
		r.Stop()
		k := writeKeyMaterial(t, t.TempDir())
		env := []string{"REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=" + rootA}
		wrongRoot := "storage-root-set-by-the-environment"

		// The registry itself runs from config.yml and that environment:
		// it serves the fixture over TLS to the htpasswd user.
		addr := freeAddr(t)
		registryConfigFile(t, k, "config.yml", addr, "filesystem:\n  rootdirectory: "+wrongRoot, htpasswdAuth(k))
		src := startConfiguredRegistry(t, v, k, "config.yml", addr, env)
		if resp, _ := src.get(t, "/v2/_catalog", "", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("registry from config.yml answers %s without credentials, want 401 (htpasswd not in use?)", resp.Status)
		}
		if got := src.catalog(t); !slices.Equal(got, f.Repos) {
			t.Fatalf("registry from config.yml: catalog %v, want %v (root override not applied?)", got, f.Repos)
		}

		archive := filepath.Join(t.TempDir(), "backup.tar.zst")
		_, stderr := regbackupIn(t, k.dir, env, 0, "backup", "--registry-config", "config.yml", "-o", archive)
		wantLines(t, "backup's output", stderr,
			"storage: file://"+rootA+" (filesystem driver from config.yml and REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY)",
			fmt.Sprintf("key files: %s (http.tls.certificate), %s (http.tls.key), %s (auth.htpasswd.path)",
				k.abs(k.cert), k.abs(k.key), k.abs(k.htp)))
		tags, files := listArchive(t, archive)
		if !maps.Equal(tags, f.Tags) {
			t.Errorf("archive images %v, want %v", tags, f.Tags)
		}
		wantFiles := []string{k.abs(k.htp), k.abs(k.cert), k.abs(k.key)}
		slices.Sort(files)
		if !slices.Equal(files, wantFiles) {
			t.Errorf("archive files %v, want %v", files, wantFiles)
		}
		if out, _ := mustRegbackup(t, 0, "list", archive); !strings.Contains(out, k.abs(k.htp)) {
			t.Errorf("regbackup list does not show the htpasswd file:\n%s", out)
		}
		src.stop()

		// Token auth (GitLab's setup): the registry starts from it and the
		// backup picks the token certificate. -q prints nothing of it.
		registryConfigFile(t, k, "token.yml", addr, "filesystem:\n  rootdirectory: "+wrongRoot, tokenAuth(k))
		tsrc := startConfiguredRegistry(t, v, k, "token.yml", addr, env)
		if resp, _ := tsrc.get(t, "/v2/", "", ""); resp.StatusCode != http.StatusUnauthorized ||
			!strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Bearer ") {
			t.Errorf("registry from token.yml: /v2/ answers %s %q, want 401 with a Bearer challenge", resp.Status, resp.Header.Get("Www-Authenticate"))
		}
		tsrc.stop()
		archive2 := filepath.Join(t.TempDir(), "token.tar.zst")
		_, stderr = regbackupIn(t, k.dir, env, 0, "backup", "--registry-config", "token.yml", "-o", archive2, "-q")
		if strings.Contains(stderr, "key files:") || strings.Contains(stderr, "storage:") {
			t.Errorf("backup -q printed what it picked:\n%s", stderr)
		}
		if _, files := listArchive(t, archive2); !slices.Contains(files, k.abs(k.token)) {
			t.Errorf("token.yml backup files %v lack the rootcertbundle %s", files, k.abs(k.token))
		}

		// Disaster: the htpasswd file is lost and the certificate damaged.
		// The new registry's config names the same key files and a new,
		// missing root.
		rootB := filepath.Join(t.TempDir(), "new-root")
		addrB := freeAddr(t)
		registryConfigFile(t, k, "target.yml", addrB, "filesystem:\n  rootdirectory: "+rootB+"\ndelete:\n  enabled: true", htpasswdAuth(k))
		crt, err := os.ReadFile(k.abs(k.cert))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(k.abs(k.htp)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(k.abs(k.cert), []byte("damaged\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr = regbackupIn(t, k.dir, nil, 0, "restore", archive, "--to-registry-config", "target.yml", "--files-to-original")
		wantLines(t, "restore's output", stderr,
			"created file://"+rootB+" (it did not exist)",
			"storage: file://"+rootB+" (filesystem driver from target.yml)",
			fmt.Sprintf("key file %s (http.tls.certificate): will be REPLACED by the archive's copy (--files-to-original)", k.abs(k.cert)),
			fmt.Sprintf("key file %s (http.tls.key): the archive holds the same file", k.abs(k.key)),
			fmt.Sprintf("key file %s (auth.htpasswd.path): will be written from the archive (--files-to-original)", k.abs(k.htp)))
		if got, _ := os.ReadFile(k.abs(k.cert)); !bytes.Equal(got, crt) {
			t.Errorf("%s not restored from the archive", k.abs(k.cert))
		}

		// The new registry starts from target.yml: TLS and htpasswd work
		// again, and it serves the same content.
		dst := startConfiguredRegistry(t, v, k, "target.yml", addrB, nil)
		if got := dst.catalog(t); !slices.Equal(got, f.Repos) {
			t.Errorf("registry from target.yml: catalog %v, want %v", got, f.Repos)
		}
		for _, ref := range sortedKeys(f.Tags) {
			repo, tag, _ := strings.Cut(ref, ":")
			req, _ := http.NewRequest(http.MethodHead, "https://"+addrB+"/v2/"+repo+"/manifests/"+tag, nil)
			req.SetBasicAuth(htpasswdUser, htpasswdPass)
			req.Header.Set("Accept", strings.Join([]string{mtDockerManifest, mtDockerList, mtOCIManifest, mtOCIIndex}, ", "))
			resp, err := dst.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if d := resp.Header.Get("Docker-Content-Digest"); d != f.Tags[ref] {
				t.Errorf("registry from target.yml: %s serves %q (%s), want %s", ref, d, resp.Status, f.Tags[ref])
			}
		}
		dst.stop()
		CheckServes(t, StartRegistry(t, v, rootB), f)
	})
}

// TestRegistryConfigErrors: what a user sees when the config cannot be
// used, before anything is written.
func TestRegistryConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "docker/registry/v2"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	missingKey := write("missing-key.yml", "version: 0.1\nstorage:\n  filesystem: {rootdirectory: "+root+"}\n"+
		"http:\n  tls: {certificate: "+filepath.Join(dir, "nope.crt")+", key: "+filepath.Join(dir, "nope.key")+"}\n")
	swift := write("swift.yml", "version: 0.1\nstorage:\n  swift: {username: u, password: swift-password-value, authurl: \"http://127.0.0.1:1/auth/v1.0\", container: c}\n")
	inmem := write("inmemory.yml", "version: 0.1\nstorage: inmemory\n")
	badYAML := write("bad.yml", "version: 0.1\nstorage:\n  s3:\n    bucket: [x\n    secretkey: yaml-secret-value\n")
	two := write("two.yml", "version: 0.1\nstorage:\n  filesystem: {rootdirectory: "+root+"}\n")
	out := filepath.Join(dir, "out.tar.zst")

	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"missing-key-file", nil, []string{"backup", "--registry-config", missingKey, "-o", out}, 1,
			"regbackup: registry config " + missingKey + ": http.tls.certificate names " + filepath.Join(dir, "nope.crt") + ", which does not exist; fix the path, or use --no-key-files (with --include-file for the files where they really are) to back up the storage without the config's key files"},
		{"swift", nil, []string{"backup", "--registry-config", swift, "-o", out}, 1,
			"regbackup: registry config " + swift + ": swift: open swift://c?auth=http://127.0.0.1:1/auth/v1.0: cannot reach http://127.0.0.1:1/auth/v1.0"},
		{"inmemory", nil, []string{"backup", "--registry-config", inmem, "-o", out}, 1,
			"regbackup: registry config " + inmem + ": unsupported storage driver: inmemory storage disappears when the registry stops: there is nothing on disk to back up"},
		{"bad-yaml", nil, []string{"backup", "--registry-config", badYAML, "-o", out}, 1, "regbackup: registry config " + badYAML + ": line "},
		{"missing-config", nil, []string{"backup", "--registry-config", filepath.Join(dir, "nope.yml"), "-o", out}, 1,
			"regbackup: registry config " + filepath.Join(dir, "nope.yml") + " does not exist (give the registry's config.yml, e.g. /etc/docker/registry/config.yml)"},
		{"second-driver-from-env", []string{"REGISTRY_STORAGE_S3_SECRETKEY=env-secret-value"}, []string{"backup", "--registry-config", two, "-o", out}, 1,
			"regbackup: registry config " + two + ": storage names several drivers (filesystem at line 3, s3 from REGISTRY_STORAGE_S3_SECRETKEY)"},
		{"both-from", nil, []string{"backup", "--registry-config", two, "--from", root, "-o", out}, 2,
			"regbackup: use either --from or --registry-config, not both (see regbackup --help)"},
		{"neither-from", nil, []string{"backup", "-o", out}, 2, "regbackup: --from, --registry-config or --gitlab is required"},
		{"no-key-files-alone", nil, []string{"backup", "--from", root, "--no-key-files", "-o", out}, 2, "regbackup: --no-key-files goes with --registry-config"},
		{"both-to", nil, []string{"restore", "x.tar.zst", "--to", root, "--to-registry-config", two}, 2,
			"regbackup: use either --to or --to-registry-config, not both (see regbackup --help)"},
		{"neither-to", nil, []string{"restore", "x.tar.zst"}, 2, "regbackup: --to, --to-registry-config or --gitlab is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := RegbackupEnv(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr\n%s\ndoes not contain %q", stderr, tc.want)
			}
			for _, secret := range []string{"swift-password-value", "yaml-secret-value", "env-secret-value"} {
				if strings.Contains(stderr, secret) {
					t.Errorf("stderr shows a secret: %s", stderr)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("an archive was written")
			}
		})
	}
}

// objectStoreCase is one object store a registry config can name.
type objectStoreCase struct {
	// storage returns a fresh, empty place (bucket or container) as a
	// storage section body, and its location prefix as regbackup prints it
	// ("s3://bucket/reg").
	storage func(t *testing.T) (section, location string)
	secrets []string // values that must never be printed
	// withoutKeys removes the credentials from a storage section and
	// returns the REGISTRY_* variables that give them back.
	withoutKeys func(section string) (string, []string)
}

// TestRegistryConfigObjectStores: a Distribution 3 registry on S3
// (versitygw) or Azure (Azurite), started from its config file; `backup
// --registry-config` with that very file finds the storage; with the
// credentials moved to REGISTRY_* variables it still does; a wrong key
// fails without showing it; `restore --to-registry-config` into a new
// bucket or container gives a registry that serves the same digests.
func TestRegistryConfigObjectStores(t *testing.T) {
	t.Parallel()
	for name, start := range map[string]func(*testing.T) objectStoreCase{"s3": s3Case, "azure": azureCase} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc := start(t)
			section, loc := tc.storage(t)
			r := StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: section})
			f := PushFixture(t, r)

			archive := filepath.Join(t.TempDir(), "backup.tar.zst")
			_, stderr := mustRegbackup(t, 0, "backup", "--registry-config", r.ConfigPath, "-o", archive)
			if !strings.Contains(stderr, "storage: "+loc) || !strings.Contains(stderr, "("+name+" driver from "+r.ConfigPath+")") {
				t.Errorf("backup does not say it reads %s with the %s driver:\n%s", loc, name, stderr)
			}
			wantLines(t, "backup's output", stderr, "key files: none named in "+r.ConfigPath)
			if tags, _ := listArchive(t, archive); !maps.Equal(tags, f.Tags) {
				t.Errorf("archive images %v, want %v", tags, f.Tags)
			}

			// Credentials from the registry's environment instead of the file.
			noKeys, env := tc.withoutKeys(section)
			cfg := filepath.Join(t.TempDir(), "config.yml")
			if err := os.WriteFile(cfg, []byte("version: 0.1\nstorage:\n"+indentBy(noKeys, "  ")), 0o644); err != nil {
				t.Fatal(err)
			}
			archive2 := filepath.Join(t.TempDir(), "env.tar.zst")
			_, stderr, code := RegbackupEnv(t, env, "backup", "--registry-config", cfg, "-o", archive2)
			if code != 0 {
				t.Errorf("backup with the credentials in REGISTRY_* variables: exit %d\n%s", code, stderr)
			}
			if tags, _ := listArchive(t, archive2); !maps.Equal(tags, f.Tags) {
				t.Errorf("archive (credentials from the environment) images %v, want %v", tags, f.Tags)
			}
			for _, sec := range tc.secrets {
				if strings.Contains(stderr, sec) {
					t.Errorf("backup's output shows a secret:\n%s", stderr)
				}
			}

			// A wrong key: a one-line error, without the key.
			wrong := "d3Jvbmcta2V5LWJ5dGVzLTAxMjM0NTY3ODlhYmNkZWY=" // valid base64, as Azure keys are
			bad := filepath.Join(t.TempDir(), "bad.yml")
			if err := os.WriteFile(bad, []byte("version: 0.1\nstorage:\n"+indentBy(noKeys, "  ")), 0o644); err != nil {
				t.Fatal(err)
			}
			badEnv := slices.Clone(env)
			badEnv[len(badEnv)-1] = badEnv[len(badEnv)-1][:strings.Index(badEnv[len(badEnv)-1], "=")+1] + wrong
			_, stderr, code = RegbackupEnv(t, badEnv, "backup", "--registry-config", bad, "-o", filepath.Join(t.TempDir(), "x.tar.zst"))
			if code != 1 || strings.Contains(stderr, wrong) {
				t.Errorf("backup with a wrong key: exit %d (want 1), output must not show the key:\n%s", code, stderr)
			}
			for _, sec := range tc.secrets {
				if strings.Contains(stderr, sec) {
					t.Errorf("error output shows a secret:\n%s", stderr)
				}
			}
			r.Stop()

			// Restore into a new bucket/container named by another config.
			target, _ := tc.storage(t)
			tcfg := filepath.Join(t.TempDir(), "target.yml")
			if err := os.WriteFile(tcfg, []byte("version: 0.1\nstorage:\n"+indentBy(target, "  ")), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr = mustRegbackup(t, 0, "restore", archive, "--to-registry-config", tcfg)
			if !strings.Contains(stderr, "("+name+" driver from "+tcfg+")") {
				t.Errorf("restore does not say where it writes:\n%s", stderr)
			}
			CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: target}), f)
		})
	}
}

func indentBy(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// s3Case starts a versitygw for t.
func s3Case(t *testing.T) objectStoreCase {
	gw := servers.StartVersityGW(t)
	key, secret := gw.AccessKey, gw.SecretKey
	return objectStoreCase{
		storage: func(t *testing.T) (string, string) {
			bucket := gw.NewBucket(t)
			section := fmt.Sprintf("s3:\n  accesskey: %s\n  secretkey: %s\n  region: %s\n  regionendpoint: %q\n"+
				"  forcepathstyle: true\n  bucket: %s\n  rootdirectory: /reg\n  secure: false\n  chunksize: 5242880\n"+
				"redirect:\n  disable: true\ndelete:\n  enabled: true\n", key, secret, gw.Region, gw.Endpoint, bucket)
			return section, "s3://" + bucket + "/reg"
		},
		secrets: []string{secret},
		withoutKeys: func(section string) (string, []string) {
			var kept []string
			for _, l := range strings.Split(section, "\n") {
				if !strings.Contains(l, "accesskey:") && !strings.Contains(l, "secretkey:") {
					kept = append(kept, l)
				}
			}
			return strings.Join(kept, "\n"), []string{"REGISTRY_STORAGE_S3_ACCESSKEY=" + key, "REGISTRY_STORAGE_S3_SECRETKEY=" + secret}
		},
	}
}

// azureCase starts an Azurite for t.
func azureCase(t *testing.T) objectStoreCase {
	az := servers.StartAzurite(t)
	return objectStoreCase{
		storage: func(t *testing.T) (string, string) {
			c := az.NewContainer(t)
			section := fmt.Sprintf("azure:\n  accountname: %s\n  accountkey: %s\n  container: %s\n  serviceurl: %s\n"+
				"  rootdirectory: /reg\n  credentials:\n    type: shared_key\nredirect:\n  disable: true\ndelete:\n  enabled: true\n", az.Account, az.Key, c, az.Endpoint)
			return section, "azure://" + c + "/reg"
		},
		secrets: []string{servers.AzuriteKey},
		withoutKeys: func(section string) (string, []string) {
			var kept []string
			for _, l := range strings.Split(section, "\n") {
				if !strings.Contains(l, "accountkey:") {
					kept = append(kept, l)
				}
			}
			return strings.Join(kept, "\n"), []string{"REGISTRY_STORAGE_AZURE_ACCOUNTKEY=" + servers.AzuriteKey}
		},
	}
}

// TestRegistryConfigGCS: a registry config with `gcs:` storage. The
// registry's gcs driver cannot be pointed at an emulator, so the data goes
// into fake-gcs-server by `restore --to-registry-config`, comes back by
// `backup --registry-config` (both reaching the emulator through
// STORAGE_EMULATOR_HOST, as the registry's own environment could), and a
// folder restored from that second archive serves the fixture.
func TestRegistryConfigGCS(t *testing.T) {
	t.Parallel()
	archive, f := seedArchive(t, V3)
	gcs := servers.StartFakeGCS(t, "regconfig-bucket")
	cfg := filepath.Join(t.TempDir(), "config.yml")
	yml := "version: 0.1\nstorage:\n  gcs:\n    bucket: regconfig-bucket\n    rootdirectory: /reg\n  delete:\n    enabled: true\n"
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"STORAGE_EMULATOR_HOST=" + gcs.Host}
	_, stderr, code := RegbackupEnv(t, env, "restore", archive, "--to-registry-config", cfg)
	if code != 0 {
		t.Fatalf("restore --to-registry-config (gcs): exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "(gcs driver from "+cfg+")") {
		t.Errorf("restore does not say where it writes:\n%s", stderr)
	}
	again := filepath.Join(t.TempDir(), "again.tar.zst")
	_, stderr, code = RegbackupEnv(t, env, "backup", "--registry-config", cfg, "-o", again)
	if code != 0 {
		t.Fatalf("backup --registry-config (gcs): exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "storage: gs://regconfig-bucket/reg") || !strings.Contains(stderr, "(gcs driver from "+cfg+")") {
		t.Errorf("backup does not say it reads gs://regconfig-bucket/reg with the gcs driver:\n%s", stderr)
	}
	if tags, _ := listArchive(t, again); !maps.Equal(tags, f.Tags) {
		t.Errorf("archive images %v, want %v", tags, f.Tags)
	}
	root := filepath.Join(t.TempDir(), "root")
	mustRegbackup(t, 0, "restore", again, "--to", root)
	CheckServes(t, StartRegistry(t, V3, root), f)
}
