package integration

// Starting and stopping real Distribution registries (2.8 and 3.x).

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/servers"
)

// Registry versions StartRegistry knows.
const (
	V28 = "2.8" // Debian's docker-registry 2.8.2
	V3  = "3"   // Distribution v3.1.x from .tools/bin/registry
	// VGitLab is GitLab's container registry (.tools/bin/gitlab-registry)
	// with its metadata database: see startGitLab.
	VGitLab = "gitlab"
)

// Versions lists the registry versions every scenario should run against.
var Versions = []string{V28, V3}

// RegistryReadyTimeout bounds how long StartRegistry waits for GET /v2/.
const RegistryReadyTimeout = 20 * time.Second

// Registry is one running registry process.
type Registry struct {
	Version    string // "2.8" or "3"
	Root       string // filesystem rootdirectory ("" when Storage is set)
	Addr       string // 127.0.0.1:PORT
	ConfigPath string // the config.yml it was started with
	LogPath    string // its stdout+stderr (appended to across restarts)
	Env        []string

	t       testing.TB
	bin     string
	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has been waited for
	waitErr error
}

// RegistryOptions configure StartRegistryOpts.
type RegistryOptions struct {
	Version string // "2.8" or "3"
	// Root is the filesystem storage rootdirectory. Ignored if Storage is set.
	Root string
	// Storage, if set, replaces the whole `storage:` section body (YAML,
	// indented by two spaces per level, without the "storage:" line), e.g.
	// for s3 or azure. delete/cache/redirect are not added then.
	Storage string
	// ReadOnly turns on storage.maintenance.readonly (writes answer 405).
	// Upload purging is always off. Both are ignored if Storage has its own
	// "maintenance:" section.
	ReadOnly bool
	// Env adds environment variables ("K=V"), e.g. REGISTRY_* overrides.
	Env []string
	// NoBlobCache leaves out the in-memory blob descriptor cache, for a
	// registry whose blobs another process (garbage-collect) deletes.
	NoBlobCache bool
	// Database is the body of GitLab's database section (VGitLab only),
	// YAML flow style: {enabled: true, host: ..., ...}.
	Database string
}

// StartRegistry starts a registry of the given version ("2.8" or "3") on a
// filesystem root, waits until it serves /v2/, and stops it at cleanup.
func StartRegistry(t testing.TB, version, root string) *Registry {
	t.Helper()
	return StartRegistryOpts(t, RegistryOptions{Version: version, Root: root})
}

// StartRegistryOpts is StartRegistry with more control over the config.
func StartRegistryOpts(t testing.TB, o RegistryOptions) *Registry {
	t.Helper()
	var bin string
	switch o.Version {
	case V28:
		bin = tool(t, "docker-registry")
	case V3:
		bin = tool(t, "registry")
	case VGitLab:
		bin = servers.GitLabRegistryBin(t)
	default:
		t.Fatalf("StartRegistry: unknown version %q (want %q or %q)", o.Version, V28, V3)
	}
	if o.Storage == "" {
		if o.Root == "" {
			t.Fatalf("StartRegistry: no root directory")
		}
		abs, err := filepath.Abs(o.Root)
		if err != nil {
			t.Fatal(err)
		}
		o.Root = abs
		if err := os.MkdirAll(o.Root, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	r := &Registry{
		Version:    o.Version,
		Root:       o.Root,
		ConfigPath: filepath.Join(dir, "config.yml"),
		LogPath:    filepath.Join(dir, "registry.log"),
		Env:        o.Env,
		t:          t,
		bin:        bin,
	}
	if o.Storage != "" {
		r.Root = ""
	}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			r.dumpLog(t)
		}
	})

	// A free port can be taken between probing and binding: retry a few times.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		r.Addr = freeAddr(t)
		if err := os.WriteFile(r.ConfigPath, []byte(registryConfig(o, r.Addr)), 0o644); err != nil {
			t.Fatal(err)
		}
		lastErr = r.start()
		if lastErr == nil {
			return r
		}
		if !strings.Contains(r.logTail(4096), "address already in use") {
			break
		}
	}
	r.dumpLog(t)
	t.Fatalf("registry %s on %s: %v", r.Version, r.Addr, lastErr)
	return nil
}

func registryConfig(o RegistryOptions, addr string) string {
	var b strings.Builder
	b.WriteString("version: 0.1\n")
	b.WriteString("log:\n  level: info\n  formatter: text\n")
	b.WriteString("storage:\n")
	if o.Storage != "" {
		for _, l := range strings.Split(strings.TrimRight(o.Storage, "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
	} else {
		fmt.Fprintf(&b, "  filesystem:\n    rootdirectory: %q\n", o.Root)
		b.WriteString("  delete:\n    enabled: true\n")
		if !o.NoBlobCache {
			b.WriteString("  cache:\n    blobdescriptor: inmemory\n")
		}
	}
	if !strings.Contains(o.Storage, "maintenance:") {
		// No upload purging: it starts at a random time and would race with
		// tests that plant _uploads folders.
		b.WriteString("  maintenance:\n    uploadpurging:\n      enabled: false\n")
		if o.ReadOnly {
			b.WriteString("    readonly:\n      enabled: true\n")
		}
	}
	if o.Database != "" {
		fmt.Fprintf(&b, "database: %s\n", o.Database)
	}
	fmt.Fprintf(&b, "http:\n  addr: %s\n  secret: regbackup-test-secret\n", addr)
	return b.String()
}

// freeAddr returns 127.0.0.1:PORT with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// registryEnv is our environment without AWS_CA_BUNDLE (Debian's 2.8 s3
// driver panics on it) and without inherited REGISTRY_* overrides, plus
// OTEL_TRACES_EXPORTER=none (3.x otherwise keeps calling localhost:4318).
func (r *Registry) registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "AWS_CA_BUNDLE" || k == "OTEL_TRACES_EXPORTER" || strings.HasPrefix(k, "REGISTRY_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "OTEL_TRACES_EXPORTER=none")
	return append(env, r.Env...)
}

func (r *Registry) start() error {
	logf, err := os.OpenFile(r.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== %s %s serve %s (addr %s)\n", time.Now().Format(time.RFC3339Nano), r.bin, r.ConfigPath, r.Addr)
	cmd := exec.Command(r.bin, "serve", r.ConfigPath)
	cmd.Env = r.registryEnv()
	cmd.Dir = filepath.Dir(r.ConfigPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Take the registry down with us if the test binary dies.
	cmd.SysProcAttr = dieWithTest()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	r.mu.Lock()
	r.cmd, r.done = cmd, done
	r.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		r.mu.Lock()
		r.waitErr = err
		r.mu.Unlock()
		close(done)
	}()

	start := time.Now()
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + r.Addr + "/v2/"
	for {
		select {
		case <-done:
			r.mu.Lock()
			err := r.waitErr
			r.cmd = nil
			r.mu.Unlock()
			return fmt.Errorf("exited before serving /v2/: %v", err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		if time.Since(start) > RegistryReadyTimeout {
			r.Stop()
			return fmt.Errorf("not ready after %s: %v", RegistryReadyTimeout, err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// Host is "localhost:PORT": crane talks plain http to localhost by itself.
func (r *Registry) Host() string {
	_, port, _ := net.SplitHostPort(r.Addr)
	return "localhost:" + port
}

// Port is the TCP port the registry listens on.
func (r *Registry) Port() int {
	_, port, _ := net.SplitHostPort(r.Addr)
	n, _ := strconv.Atoi(port)
	return n
}

// URL is "http://127.0.0.1:PORT".
func (r *Registry) URL() string { return "http://" + r.Addr }

// Ref prefixes a "repo:tag" or "repo@digest" with Host().
func (r *Registry) Ref(ref string) string { return r.Host() + "/" + ref }

// PID is the process id, or 0 when stopped.
func (r *Registry) PID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// Stop terminates the registry by PID (SIGTERM, SIGKILL after 5 s) and waits
// for it. Safe to call more than once.
func (r *Registry) Stop() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart stops the registry and starts it again with the same config, port
// and root (needed after an out-of-band restore: its caches may be stale).
func (r *Registry) Restart(t testing.TB) {
	t.Helper()
	r.Stop()
	var err error
	// The port was just released by our own process; rebinding normally works
	// at once, but give the kernel a moment if it does not.
	for attempt := 0; attempt < 20; attempt++ {
		if err = r.start(); err == nil {
			return
		}
		if !strings.Contains(r.logTail(4096), "address already in use") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.dumpLog(t)
	t.Fatalf("restart registry %s on %s: %v", r.Version, r.Addr, err)
}

func (r *Registry) logTail(n int64) string {
	f, err := os.Open(r.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := fi.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, fi.Size()-off)
	k, _ := f.ReadAt(buf, off)
	buf = buf[:k]
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return string(buf)
}

func (r *Registry) dumpLog(t testing.TB) {
	t.Helper()
	t.Logf("registry %s (%s) log %s, last lines:\n%s", r.Version, r.Addr, r.LogPath, r.logTail(16<<10))
}
