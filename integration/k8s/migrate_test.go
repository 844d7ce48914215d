package k8s

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// TestMigrationManifests: the two files of a sharded migration decode
// strictly. The first has an Indexed Job whose pods each copy one shard:
// --shard $(JOB_COMPLETION_INDEX)/N with N its completions, at most N pods
// at once, each index retried on its own (backoffLimitPerIndex), a usage
// error failing its index at once; with each index put in, the command
// line is one regbackup runs (a dry run of an empty registry, whose JSON
// report names that shard). The second has one plain Job copying from and
// to the same places with no --shard: the final copy that writes the links.
func TestMigrationManifests(t *testing.T) {
	shardsFile := filepath.Join(contribDir, migratePrefix+"shards.yaml")
	finalFile := filepath.Join(contribDir, migratePrefix+"final.yaml")
	shards, final := readManifest(t, shardsFile), readManifest(t, finalFile)
	if len(shards.jobs) != 1 || len(final.jobs) != 1 || len(shards.cronJobs)+len(final.cronJobs) != 0 {
		t.Fatalf("want one Job in each of %s and %s, and no CronJob", shardsFile, finalFile)
	}
	bin := regbackup(t)

	job := shards.jobs[0]
	name := filepath.Base(shardsFile)
	spec := job.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("%s: completionMode %v, want Indexed", name, spec.CompletionMode)
	}
	if spec.Completions == nil || *spec.Completions < 1 {
		t.Fatalf("%s: no completions: an Indexed Job needs the number of shards", name)
	}
	n := int(*spec.Completions)
	if spec.Parallelism != nil && (*spec.Parallelism < 1 || int(*spec.Parallelism) > n) {
		t.Errorf("%s: parallelism %d, want 1 to completions (%d)", name, *spec.Parallelism, n)
	}
	if spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex < 1 {
		t.Errorf("%s: want backoffLimitPerIndex: a failed shard retried on its own, the others going on", name)
	}
	if !failsIndexOn(spec.PodFailurePolicy, 2) {
		t.Errorf("%s: want a podFailurePolicy rule failing the index on exit 2 (a usage error fails again)", name)
	}
	pod := spec.Template.Spec
	c := checkPod(t, bin, name, pod, shards)
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" {
			t.Errorf("%s: the container sets JOB_COMPLETION_INDEX: Kubernetes does, for each pod", name)
		}
	}
	shard := argAfter(c.Args, "--shard")
	m := regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/([0-9]+)$`).FindStringSubmatch(shard)
	if m == nil {
		t.Fatalf("%s: --shard %q, want $(JOB_COMPLETION_INDEX)/N", name, shard)
	}
	if of, _ := strconv.Atoi(m[1]); of != n {
		t.Errorf("%s: --shard %s with completions %d: every shard needs its index", name, shard, n)
	}
	for i := range n {
		args := strings.ReplaceAll(strings.Join(c.Args, "\x00"), "$(JOB_COMPLETION_INDEX)", strconv.Itoa(i))
		checkShardRuns(t, bin, name, strings.Split(args, "\x00"), fmt.Sprintf("%d/%d", i, n))
	}

	fj := final.jobs[0]
	fname := filepath.Base(finalFile)
	if fj.Spec.CompletionMode != nil && *fj.Spec.CompletionMode == batchv1.IndexedCompletion {
		t.Errorf("%s: an Indexed Job: the final copy is one pod", fname)
	}
	if fj.Spec.Completions != nil && *fj.Spec.Completions != 1 || fj.Spec.Parallelism != nil && *fj.Spec.Parallelism != 1 {
		t.Errorf("%s: want one pod, one completion", fname)
	}
	if fj.Spec.Template.Spec.ServiceAccountName != pod.ServiceAccountName {
		t.Errorf("%s: serviceAccountName %q, want %s's %q", fname, fj.Spec.Template.Spec.ServiceAccountName, name, pod.ServiceAccountName)
	}
	fc := checkPod(t, bin, fname, fj.Spec.Template.Spec, shards) // its Secret is in the shards' file
	if len(fc.Args) == 0 || fc.Args[0] != "copy" || argAfter(fc.Args, "--shard") != "" || strings.Contains(strings.Join(fc.Args, " "), "--shard") {
		t.Errorf("%s: args %v, want a plain copy (no --shard)", fname, fc.Args)
	}
	for _, flag := range []string{"--from", "--to"} {
		if a, b := argAfter(c.Args, flag), argAfter(fc.Args, flag); a != b || a == "" {
			t.Errorf("%s %s %q, %s %s %q: want the same storage", name, flag, a, fname, flag, b)
		}
	}
}

// failsIndexOn reports whether p has a FailIndex rule for the regbackup
// container's exit code.
func failsIndexOn(p *batchv1.PodFailurePolicy, code int32) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Rules {
		if r.Action != batchv1.PodFailurePolicyActionFailIndex || r.OnExitCodes == nil || r.OnExitCodes.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn {
			continue
		}
		for _, v := range r.OnExitCodes.Values {
			if v == code {
				return true
			}
		}
	}
	return false
}

// checkShardRuns runs regbackup with args, --from and --to replaced by a
// registry folder of one image and a folder to be, as a JSON dry run: it
// must succeed and report shard want.
func checkShardRuns(t *testing.T, bin, name string, args []string, want string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "registry")
	writeRegistry(t, src)
	args = append([]string(nil), args...)
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--from":
			args[i+1] = src
		case "--to":
			args[i+1] = filepath.Join(dir, "target")
		}
	}
	args = append(args, "--dry-run", "--json", "--lock-dir", filepath.Join(dir, "locks"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	var res struct {
		Report struct {
			Shard string `json:"shard"`
		} `json:"report"`
	}
	if jerr := json.Unmarshal(out, &res); err != nil || jerr != nil || res.Report.Shard != want {
		t.Errorf("%s: regbackup %s: %v, shard %q, want %q\n%s", name, strings.Join(args, " "), err, res.Report.Shard, want, out)
	}
}

// writeRegistry writes at root the storage of a registry holding one
// image, app:v1: an OCI manifest of a config and no layer.
func writeRegistry(t *testing.T, root string) {
	t.Helper()
	digest := func(b []byte) string { return fmt.Sprintf("sha256:%x", sha256.Sum256(b)) }
	config := []byte("{}")
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, digest(config), len(config)))
	v2 := filepath.Join(root, "docker", "registry", "v2")
	files := map[string][]byte{}
	for _, b := range [][]byte{config, manifest} {
		hex := strings.TrimPrefix(digest(b), "sha256:")
		files[filepath.Join("blobs", "sha256", hex[:2], hex, "data")] = b
	}
	repo := filepath.Join("repositories", "app")
	c, m := strings.TrimPrefix(digest(config), "sha256:"), strings.TrimPrefix(digest(manifest), "sha256:")
	files[filepath.Join(repo, "_layers", "sha256", c, "link")] = []byte(digest(config))
	files[filepath.Join(repo, "_manifests", "revisions", "sha256", m, "link")] = []byte(digest(manifest))
	files[filepath.Join(repo, "_manifests", "tags", "v1", "current", "link")] = []byte(digest(manifest))
	files[filepath.Join(repo, "_manifests", "tags", "v1", "index", "sha256", m, "link")] = []byte(digest(manifest))
	for p, b := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(v2, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(v2, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
