package integration

// Prune never deletes a parent it could not rule out (issue 10, item 1):
// four archives a (full), x (full), b (incremental on a), c (full), in a
// folder and in a versitygw bucket, with b's sidecar damaged, b's catalog
// unreadable, or a read of b failing; through `prune` and through
// `backup --keep-last` (which runs the same prune after writing c).

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/integration/sample"
	"github.com/regbackup/regbackup/integration/servers"
)

// The chain's names: all match the backup pattern "reg-{time}.tar.zst".
const (
	pruneA = "reg-000001.tar.zst" // full
	pruneX = "reg-000002.tar.zst" // full
	pruneB = "reg-000003.tar.zst" // incremental on a
)

// pruneSite is a folder or a bucket prefix holding archives.
type pruneSite struct {
	env   []string
	dest  string                                    // prune's DEST
	url   func(name string) string                  // an archive's location
	put   func(t testing.TB, name string, b []byte) // replace a file
	get   func(t testing.TB, name string) []byte
	names func(t testing.TB) []string // sorted
	// fail makes every GET of name answer status with an S3 error code
	// (bucket only; "" clears it).
	fail func(name string, status int, code string)
}

func (s pruneSite) run(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	return RegbackupEnv(t, s.env, args...)
}

func (s pruneSite) must(t testing.TB, args ...string) {
	t.Helper()
	if o, e, code := s.run(t, args...); code != 0 {
		t.Fatalf("regbackup %s: exit %d\n%s\n%s", strings.Join(args, " "), code, o, e)
	}
}

// chain writes a, x and b (b with bArgs), oldest first.
func (s pruneSite) chain(t testing.TB, src string, bArgs ...string) {
	t.Helper()
	s.must(t, "backup", "--from", src, "-o", s.url(pruneA))
	s.must(t, "backup", "--from", src, "-o", s.url(pruneX))
	s.must(t, append([]string{"backup", "--from", src, "-o", s.url(pruneB), "--incremental-from", s.url(pruneA)}, bArgs...)...)
}

func folderSite(t testing.TB) pruneSite {
	dir := t.TempDir()
	return pruneSite{
		dest: dir,
		url:  func(n string) string { return filepath.Join(dir, n) },
		put: func(t testing.TB, n string, b []byte) {
			if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
		get: func(t testing.TB, n string) []byte {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		names: func(t testing.TB) []string {
			es, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range es {
				out = append(out, e.Name())
			}
			return out
		},
	}
}

// bucketSite is a prefix of a versitygw bucket, reached through an
// in-process proxy that can answer GETs of one object with an error.
func bucketSite(t testing.TB, gw *servers.S3Server) pruneSite {
	bucket := gw.NewBucket(t)
	const prefix = "p/"
	target, err := url.Parse(gw.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var failKey, failCode string
	var failStatus int
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		key, status, code := failKey, failStatus, failCode
		mu.Unlock()
		if code != "" && r.Method == http.MethodGet && r.URL.Path == "/"+bucket+"/"+prefix+key {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>injected by the test</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	via := *gw
	via.Endpoint = proxy.URL
	c := gw.Client()
	return pruneSite{
		env:  gw.Env(),
		dest: via.Location(bucket, strings.TrimSuffix(prefix, "/")),
		url:  func(n string) string { return via.Location(bucket, prefix+n) },
		put: func(t testing.TB, n string, b []byte) {
			if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + n), Body: bytes.NewReader(b)}); err != nil {
				t.Fatal(err)
			}
		},
		get: func(t testing.TB, n string) []byte {
			o, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + n)})
			if err != nil {
				t.Fatal(err)
			}
			defer o.Body.Close()
			b, err := io.ReadAll(o.Body)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		names: func(t testing.TB) []string {
			var out []string
			for _, k := range gw.Keys(t, bucket) {
				out = append(out, strings.TrimPrefix(k, prefix))
			}
			slices.Sort(out)
			return out
		},
		fail: func(n string, status int, code string) {
			mu.Lock()
			defer mu.Unlock()
			failKey, failStatus, failCode = n, status, code
		},
	}
}

func TestPruneUnreadableFolder(t *testing.T) {
	t.Parallel()
	testPruneUnreadable(t, false, func(t testing.TB) pruneSite { return folderSite(t) })
}

func TestPruneUnreadableBucket(t *testing.T) {
	t.Parallel()
	gw := servers.StartVersityGW(t)
	testPruneUnreadable(t, true, func(t testing.TB) pruneSite { return bucketSite(t, gw) })
}

func testPruneUnreadable(t *testing.T, bucket bool, site func(t testing.TB) pruneSite) {
	src := filepath.Join(t.TempDir(), "src")
	genTree(t, src, sample.Options{Seed: 21, LayerBytes: 160 << 10})
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sideB := pruneB + ".meta.json"
	garbage := []byte("this is not a sidecar\x00\xff")

	// keptChain checks that a, b and the newest (c) are left with b
	// restorable, and x is gone.
	keptChain := func(t *testing.T, s pruneSite, out string) {
		t.Helper()
		names := s.names(t)
		for _, n := range []string{pruneA, pruneB} {
			if !slices.Contains(names, n) {
				t.Errorf("%s deleted (b's parent a must stay, and b is among the last 2): left %q\n%s", n, names, out)
			}
		}
		if slices.Contains(names, pruneX) {
			t.Errorf("x not deleted: left %q\n%s", names, out)
		}
		if len(names) != 6 {
			t.Errorf("left %q, want a, b, c with their sidecars", names)
		}
	}
	// stopped checks that a run failed with exit want, one error line
	// naming b, and deleted nothing.
	stopped := func(t *testing.T, s pruneSite, before []string, stderr string, code, want int, say string) {
		t.Helper()
		if code != want {
			t.Errorf("exit %d, want %d\n%s", code, want, stderr)
		}
		if ls := strings.Split(strings.TrimSpace(stderr), "\n"); len(ls) != 1 {
			t.Errorf("stderr has %d lines, want one:\n%s", len(ls), stderr)
		}
		if line := errorLine(t, stderr); !strings.Contains(line, pruneB) || !strings.Contains(line, say) {
			t.Errorf("error line %q should name %s and say %q", line, pruneB, say)
		}
		if after := s.names(t); !slices.Equal(after, before) {
			t.Errorf("files deleted although prune failed: %q -> %q", before, after)
		}
	}

	t.Run("prune-damaged-sidecar", func(t *testing.T) {
		s := site(t)
		s.chain(t, src)
		s.must(t, "backup", "--from", src, "-o", s.url("reg-{time}.tar.zst"))
		s.put(t, sideB, garbage)
		out, stderr, code := s.run(t, "prune", s.dest, "--keep-last", "2")
		if code != 0 {
			t.Fatalf("prune: exit %d\n%s", code, stderr)
		}
		keptChain(t, s, out+stderr)
		s.must(t, "verify", s.url(pruneB))
	})
	t.Run("backup-keep-damaged-sidecar", func(t *testing.T) {
		s := site(t)
		s.chain(t, src)
		s.put(t, sideB, garbage)
		_, stderr, code := s.run(t, "backup", "--from", src, "-o", s.url("reg-{time}.tar.zst"), "--keep-last", "2")
		if code != 0 {
			t.Fatalf("backup --keep-last 2: exit %d\n%s", code, stderr)
		}
		keptChain(t, s, stderr)
		s.must(t, "verify", s.url(pruneB))
	})
	t.Run("encrypted-damaged-sidecar", func(t *testing.T) {
		s := site(t)
		s.chain(t, src, "--encrypt-to", id.Recipient().String())
		s.must(t, "backup", "--from", src, "-o", s.url("reg-{time}.tar.zst"))
		s.put(t, sideB, garbage)
		before := s.names(t)
		_, stderr, code := s.run(t, "prune", s.dest, "--keep-last", "2")
		stopped(t, s, before, stderr, code, 6, "pass --identity")
		_, stderr, code = s.run(t, "prune", s.dest, "--keep-last", "2", "--identity", keyFile)
		if code != 0 {
			t.Fatalf("prune --identity: exit %d\n%s", code, stderr)
		}
		keptChain(t, s, stderr)
	})
	t.Run("corrupt-catalog-damaged-sidecar", func(t *testing.T) {
		s := site(t)
		s.chain(t, src, "--compression", "none")
		s.must(t, "backup", "--from", src, "-o", s.url("reg-{time}.tar.zst"))
		s.put(t, sideB, garbage)
		b := s.get(t, pruneB)
		b[512] = 'X' // the catalog's first byte, after its tar header
		s.put(t, pruneB, b)
		before := s.names(t)
		_, stderr, code := s.run(t, "prune", s.dest, "--keep-last", "2")
		stopped(t, s, before, stderr, code, 3, "nothing deleted")
	})
	// A read that fails (not a verdict on the archive): in a folder a
	// sidecar that is a folder (EISDIR; the tests run as root, who reads
	// any file), in a bucket S3's 503 SlowDown and 403 AccessDenied.
	type failure struct {
		name   string
		status int
		code   string
	}
	var failures []failure
	if !bucket {
		failures = []failure{{name: "sidecar-is-a-folder"}}
	} else {
		failures = []failure{{"sidecar-503", http.StatusServiceUnavailable, "SlowDown"}, {"sidecar-403", http.StatusForbidden, "AccessDenied"}}
	}
	for _, f := range failures {
		breakB := func(t *testing.T, s pruneSite) {
			if s.fail == nil {
				dir := filepath.Join(s.dest, sideB)
				if err := os.Remove(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				return
			}
			s.fail(sideB, f.status, f.code)
		}
		t.Run("prune-"+f.name, func(t *testing.T) {
			s := site(t)
			s.chain(t, src)
			s.must(t, "backup", "--from", src, "-o", s.url("reg-{time}.tar.zst"))
			breakB(t, s)
			before := s.names(t)
			_, stderr, code := s.run(t, "prune", s.dest, "--keep-last", "2")
			stopped(t, s, before, stderr, code, 1, "nothing deleted")
		})
		t.Run("backup-keep-"+f.name, func(t *testing.T) {
			s := site(t)
			s.chain(t, src)
			breakB(t, s)
			before := s.names(t)
			_, stderr, code := s.run(t, "backup", "--from", src, "-o", s.url("reg-{time}.tar.zst"), "--keep-last", "2", "--quiet")
			if code != 1 {
				t.Errorf("backup --keep-last 2: exit %d, want 1\n%s", code, stderr)
			}
			if line := errorLine(t, stderr); !strings.Contains(line, "pruning failed") || !strings.Contains(line, pruneB) || !strings.Contains(line, "nothing deleted") {
				t.Errorf("error line %q should say pruning failed at %s and nothing was deleted", line, pruneB)
			}
			after := s.names(t)
			for _, n := range before {
				if !slices.Contains(after, n) {
					t.Errorf("%s deleted although pruning failed: %q -> %q", n, before, after)
				}
			}
			if len(after) != len(before)+2 {
				t.Errorf("after the backup %q, want %q and the new archive with its sidecar", after, before)
			}
		})
	}
}
