package integration

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/regbackup/regbackup/archive"
)

// churn pushes, deletes and garbage-collects a live registry until stopped:
// what a busy registry with a GC cron job does while a backup runs.
type churn struct {
	t      *testing.T
	r      *Registry
	layers []string

	mu      sync.Mutex
	pushed  map[string]string // tag -> the digest its push gave it
	deleted map[string]bool   // tags deleted (their manifest deleted by digest)
	order   []string          // pushed tags not deleted, oldest first
	gcs     int               // garbage-collect runs completed
	failed  int               // pushes that failed (GC swept a blob mid-push)
}

func (c *churn) run(ctx context.Context, wg *sync.WaitGroup) {
	wg.Add(2)
	go func() { // pushes and deletes
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			tag := fmt.Sprintf("live/app:%d", i)
			_, err := craneErr(c.t, "append", "-b", c.r.Ref("alpha:v1"), "-f", c.layers[i%len(c.layers)], "-t", c.r.Ref(tag))
			if err == nil {
				var d string
				if d, err = craneErr(c.t, "digest", c.r.Ref(tag)); err == nil {
					c.mu.Lock()
					c.pushed[tag] = d
					c.mu.Unlock()
				}
			}
			if err != nil {
				c.mu.Lock()
				c.failed++
				c.mu.Unlock()
				continue
			}
			c.mu.Lock()
			c.order = append(c.order, tag)
			var old string
			if len(c.order)%2 == 0 { // every other push, delete the oldest tag left
				old, c.order = c.order[0], c.order[1:]
			}
			d := c.pushed[old]
			c.mu.Unlock()
			if old != "" {
				if _, err := craneErr(c.t, "delete", c.r.Ref("live/app@"+d)); err == nil {
					c.mu.Lock()
					c.deleted[old] = true
					c.mu.Unlock()
				}
			}
		}
	}()
	go func() { // garbage-collect in a loop, as the registry's own docs say never to
		defer wg.Done()
		for ctx.Err() == nil {
			cmd := exec.Command(c.r.bin, "garbage-collect", "--delete-untagged", c.r.ConfigPath)
			cmd.Env = c.r.registryEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				c.t.Logf("garbage-collect: %v: %s", err, lastLine(string(out)))
			} else {
				c.mu.Lock()
				c.gcs++
				c.mu.Unlock()
			}
			time.Sleep(400 * time.Millisecond) // pushes must get through between runs
		}
	}()
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}

// TestBackupAndCopyUnderGC (issue 10 item 6): backup and copy of a registry
// that is pushed to, deleted from and garbage-collected with
// --delete-untagged while they run. They finish; what vanished under them
// is reported; and what they wrote serves every tag it holds, whole, with
// the digest the registry gave that tag.
func TestBackupAndCopyUnderGC(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		root := filepath.Join(t.TempDir(), "registry")
		r := StartRegistryOpts(t, RegistryOptions{Version: v, Root: root, NoBlobCache: true})
		PushFixture(t, r)
		dir := t.TempDir()
		c := &churn{t: t, r: r, pushed: map[string]string{}, deleted: map[string]bool{}}
		for i := 0; i < 6; i++ {
			c.layers = append(c.layers, makeLayer(t, dir, fmt.Sprintf("gc%d", i), 256*1024))
		}
		before := map[string]string{}
		for _, ref := range []string{"alpha:v1"} {
			before[ref] = crane(t, "digest", r.Ref(ref))
		}

		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		c.run(ctx, &wg)
		time.Sleep(time.Second)
		type result struct {
			kind, path, out string
			code            int
		}
		var results []result
		for i := 0; i < 3; i++ {
			a := filepath.Join(dir, fmt.Sprintf("backup%d.tar.zst", i))
			o, e, code := Regbackup(t, "backup", "--from", root, "-o", a)
			results = append(results, result{"backup", a, o + e, code})
			dst := filepath.Join(dir, fmt.Sprintf("copy%d", i))
			o, e, code = Regbackup(t, "copy", "--from", root, "--to", dst)
			results = append(results, result{"copy", dst, o + e, code})
		}
		cancel()
		wg.Wait()
		r.Stop()
		c.mu.Lock()
		t.Logf("while backing up and copying: %d pushes (%d failed), %d tags deleted, %d garbage-collect runs",
			len(c.pushed)+c.failed, c.failed, len(c.deleted), c.gcs)
		if c.gcs == 0 || len(c.deleted) == 0 {
			t.Errorf("the churn did not happen: %d GC runs, %d deletes", c.gcs, len(c.deleted))
		}
		c.mu.Unlock()

		for _, res := range results {
			// 0, or 3 when the registry itself lost a blob of a tag it still
			// served (a GC on a live registry can): anything else is a failure.
			if res.code != 0 && res.code != 3 {
				t.Fatalf("%s: exit %d\n%s", res.kind, res.code, res.out)
			}
			if res.code != 0 || strings.Contains(res.out, "vanished") {
				t.Logf("%s %s (exit %d) reported:\n%s", res.kind, filepath.Base(res.path), res.code, res.out)
			}
			store := res.path
			if res.kind == "backup" {
				mustRegbackup(t, 0, "verify", res.path)
				store = filepath.Join(t.TempDir(), "restored")
				mustRegbackup(t, 0, "restore", res.path, "--to", store)
			}
			damaged := damagedManifests(res.out)
			r2 := StartRegistry(t, v, store)
			tags := servedTags(t, r2)
			held := 0
			for _, ref := range sortedKeys(tags) {
				d := tags[ref]
				c.mu.Lock()
				want, ok := c.pushed[ref]
				c.mu.Unlock()
				if !ok {
					want, ok = before[ref]
				}
				if ok && d != want {
					t.Errorf("%s %s: %s is %s, the registry gave it %s", res.kind, filepath.Base(res.path), ref, d, want)
				}
				if damaged[d] {
					// The registry's own GC race (a blob swept while its
					// manifest was pushed): reported as damage, exit 3, and
					// held as the registry held it.
					t.Logf("%s %s: %s names manifest %s, reported damaged: not validated", res.kind, filepath.Base(res.path), ref, d)
					continue
				}
				if _, err := craneErr(t, "validate", "--remote", r2.Ref(ref)); err != nil && vanishedBlobNamed(res.out, err) {
					// The same race after the snapshot: a blob of this tag
					// swept before it was read, reported as damage (exit 3).
					t.Logf("%s %s: %s lacks a blob reported vanished: %v", res.kind, filepath.Base(res.path), ref, err)
				} else if err != nil {
					t.Errorf("%s %s: %s does not pull whole: %v", res.kind, filepath.Base(res.path), ref, err)
				}
				if strings.HasPrefix(ref, "live/") {
					held++
				}
			}
			t.Logf("%s %s: exit %d, %d tags, %d of them pushed during the run, all served whole", res.kind, filepath.Base(res.path), res.code, len(tags), held)
			r2.Stop()
		}
	})
}

// damagedManifests are the manifests a run's output reports as lacking a
// blob ("damage: BLOB: referenced by manifest DIGEST but missing ...").
func damagedManifests(out string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		_, rest, ok := strings.Cut(l, "referenced by manifest ")
		if !strings.HasPrefix(l, "damage: ") || !ok {
			continue
		}
		if d, _, ok := strings.Cut(rest, " "); ok {
			m[d] = true
		}
	}
	return m
}

// vanishedBlobNamed reports whether err (crane's) names a blob that out
// reports as damage: "blobs/sha256/xx/<hex>/data: vanished from the
// source after the snapshot".
func vanishedBlobNamed(out string, err error) bool {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		path, rest, ok := strings.Cut(l, ": vanished")
		if !strings.HasPrefix(l, "damage: ") || !ok || rest == "" {
			continue
		}
		if p := archive.ParsePath(strings.TrimPrefix(path, "damage: ")); p.Kind == archive.KindBlob && strings.Contains(err.Error(), p.Digest) {
			return true
		}
	}
	return false
}

func vanishedLines(out string) string {
	var ls []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "vanished") {
			ls = append(ls, strings.TrimSpace(l))
		}
	}
	if len(ls) > 3 {
		ls = append(ls[:3], fmt.Sprintf("... and %d more", len(ls)-3))
	}
	return strings.Join(ls, "; ")
}
