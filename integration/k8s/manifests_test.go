package k8s

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// contribDir is contrib/kubernetes of the repository this module sits in.
const contribDir = "../../contrib/kubernetes"

// typeMeta is the part of a document that says what it is.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// documents splits a multi-document YAML file at its "---" lines.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// decodeStrict decodes doc into the API type its apiVersion and kind name,
// failing on a field that type does not have.
func decodeStrict(t *testing.T, name string, doc []byte) any {
	t.Helper()
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var obj any
	switch tm.APIVersion + " " + tm.Kind {
	case "batch/v1 CronJob":
		obj = &batchv1.CronJob{}
	case "batch/v1 Job":
		obj = &batchv1.Job{}
	case "v1 Secret":
		obj = &corev1.Secret{}
	case "v1 ServiceAccount":
		obj = &corev1.ServiceAccount{}
	case "v1 PersistentVolumeClaim":
		obj = &corev1.PersistentVolumeClaim{}
	default:
		t.Fatalf("%s: %s %s: not a kind this test knows; add it", name, tm.APIVersion, tm.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		t.Fatalf("%s (%s): strict decode: %v", name, tm.Kind, err)
	}
	return obj
}

// migratePrefix starts the names of the manifests of a migration (Jobs,
// see TestMigrationManifests); the others are backups (CronJobs).
const migratePrefix = "regbackup-migrate-"

// manifest is what one file of contrib/kubernetes defines.
type manifest struct {
	cronJobs []*batchv1.CronJob
	jobs     []*batchv1.Job
	secrets  map[string]bool // by name
	claims   map[string]bool
}

// readManifest decodes every document of the file at path strictly.
func readManifest(t *testing.T, path string) manifest {
	t.Helper()
	m := manifest{secrets: map[string]bool{}, claims: map[string]bool{}}
	for i, doc := range documents(t, path) {
		switch o := decodeStrict(t, filepath.Base(path)+" document "+string(rune('1'+i)), doc).(type) {
		case *batchv1.CronJob:
			m.cronJobs = append(m.cronJobs, o)
		case *batchv1.Job:
			m.jobs = append(m.jobs, o)
		case *corev1.Secret:
			m.secrets[o.Name] = true
		case *corev1.PersistentVolumeClaim:
			m.claims[o.Name] = true
		}
	}
	return m
}

// TestManifests: every document of every backup manifest decodes strictly;
// each file has a CronJob whose regbackup container has arguments regbackup
// accepts, pushes its metrics to a fixed group (not the pod's name), and
// runs unprivileged with its locks on a writable volume.
func TestManifests(t *testing.T) {
	all, err := filepath.Glob(filepath.Join(contribDir, "*.yaml"))
	var files []string
	for _, f := range all {
		if !strings.HasPrefix(filepath.Base(f), migratePrefix) {
			files = append(files, f)
		}
	}
	if err != nil || len(files) < 2 {
		t.Fatalf("want the S3 and the filesystem manifests in %s, found %v (%v)", contribDir, files, err)
	}
	bin := regbackup(t)
	for _, f := range files {
		name := filepath.Base(f)
		m := readManifest(t, f)
		cronJobs := m.cronJobs
		if len(m.jobs) != 0 {
			t.Errorf("%s: %d Jobs: a backup manifest has its CronJob only (a migration's file is named %s*)", name, len(m.jobs), migratePrefix)
		}
		if len(cronJobs) != 1 {
			t.Fatalf("%s: %d CronJobs, want 1", name, len(cronJobs))
		}
		cj := cronJobs[0]
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q: two backups of one registry must not overlap", name, cj.Spec.ConcurrencyPolicy)
		}
		if len(strings.Fields(cj.Spec.Schedule)) != 5 {
			t.Errorf("%s: schedule %q is not a 5-field cron line", name, cj.Spec.Schedule)
		}
		c := checkPod(t, bin, name, cj.Spec.JobTemplate.Spec.Template.Spec, m)
		push := argAfter(c.Args, "--metrics-push")
		if !regexp.MustCompile(`^https?://[^/]+/metrics/job/[^/]+/instance/[^/]+$`).MatchString(push) {
			t.Errorf("%s: --metrics-push %q: want a fixed group (…/metrics/job/JOB/instance/INSTANCE), or every pod adds one", name, push)
		}
		if out := argAfter(c.Args, "-o"); strings.HasPrefix(out, "/") && !underMount(out, mounts(c)) {
			t.Errorf("%s: -o %s is on no volume", name, out)
		}
	}
}

// checkPod checks the pod of a CronJob or Job of the file name, which
// defines m: it is not restarted in place, runs as non-root one regbackup
// container with arguments regbackup accepts (checkArgs) and no command,
// takes its Secrets and claims from the file, keeps its locks on a
// writable volume and mounts a --from folder read-only. It returns the
// container.
func checkPod(t *testing.T, bin, name string, pod corev1.PodSpec, m manifest) corev1.Container {
	t.Helper()
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("%s: restartPolicy %q, want Never (a failed run is reported, not looped in place)", name, pod.RestartPolicy)
	}
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: the pod does not say runAsNonRoot", name)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", name, len(pod.Containers))
	}
	c := pod.Containers[0]
	if len(c.Command) != 0 {
		t.Errorf("%s: command %v overrides the image's entrypoint (regbackup); give args only", name, c.Command)
	}
	checkArgs(t, bin, name, c.Args)
	for _, e := range c.EnvFrom {
		if e.SecretRef != nil && !m.secrets[e.SecretRef.Name] {
			t.Errorf("%s: envFrom names Secret %q, which the file does not define", name, e.SecretRef.Name)
		}
	}
	mounted := mounts(c)
	lockDir := ""
	for _, e := range c.Env {
		if e.Name == "REGBACKUP_LOCK_DIR" {
			lockDir = e.Value
		}
	}
	if c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem {
		if !underMount(lockDir, mounted) {
			t.Errorf("%s: read-only root filesystem, and REGBACKUP_LOCK_DIR %q is on no volume", name, lockDir)
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	for _, vm := range c.VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			t.Errorf("%s: mount %s names volume %q, which the pod does not have", name, vm.MountPath, vm.Name)
			continue
		}
		if pvc := v.PersistentVolumeClaim; pvc != nil && strings.HasPrefix(pvc.ClaimName, "regbackup") && !m.claims[pvc.ClaimName] {
			t.Errorf("%s: claim %q is not defined in the file", name, pvc.ClaimName)
		}
	}
	if from := argAfter(c.Args, "--from"); strings.HasPrefix(from, "/") {
		vm, ok := mounted[from]
		if !ok || !vm.ReadOnly {
			t.Errorf("%s: --from %s: want the registry's volume mounted there read-only", name, from)
		}
	}
	return c
}

// mounts are c's volume mounts by path.
func mounts(c corev1.Container) map[string]corev1.VolumeMount {
	m := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		m[vm.MountPath] = vm
	}
	return m
}

// argAfter is the argument after flag, or "".
func argAfter(args []string, flag string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// underMount reports whether path lies in one of the mounts.
func underMount(path string, mounts map[string]corev1.VolumeMount) bool {
	for dir := path; dir != "/" && dir != "." && dir != ""; dir = filepath.Dir(dir) {
		if _, ok := mounts[dir]; ok {
			return true
		}
	}
	return false
}

// checkArgs runs regbackup with args and --help: an unknown flag or
// command is a usage error (exit 2), known ones print the help (exit 0).
func checkArgs(t *testing.T, bin, name string, args []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(append([]string(nil), args...), "--help")...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("%s: regbackup %s --help: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

// regbackup builds the regbackup binary of the repository.
func regbackup(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not in PATH: %v", err)
	}
	out := filepath.Join(t.TempDir(), "regbackup")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/regbackup")
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || len(b) > 0 {
			t.Fatalf("go build ./cmd/regbackup: %v\n%s", err, b)
		}
		t.Fatal(err)
	}
	return out
}
