package integration

// SIGKILL at any moment: restore (into a folder and into S3), copy (folder
// to S3, folder to folder) and backup (to a folder and to an s3:// archive
// location), each killed at seeded random moments. After every kill no link
// file at the target names a blob that is absent or whose bytes do not hash
// to its digest, and no archive at its final name is half-written; the same
// command run again completes, leaves the target equal to the source file
// for file, and removes what the killed run left (temp files beside blobs,
// partial archive files, unfinished multipart uploads).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/integration/servers"
)

// killsPerCommand is how many times each command is killed.
const killsPerCommand = 6

// killTarget is where a killed command writes, seen from outside.
type killTarget interface {
	// files maps every file there (slash path below the target's root) to
	// its bytes, leaving out leftovers.
	files(t *testing.T) map[string][]byte
	// leftovers lists what a killed run may leave that is no file: temp
	// files, partial archives, unfinished multipart uploads.
	leftovers(t *testing.T) []string
}

// folderTarget is a local folder.
type folderTarget string

func (d folderTarget) files(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	walkFiles(t, string(d), func(rel string, fi fs.FileInfo) {
		if isLeftoverName(filepath.Base(rel)) || !fi.Mode().IsRegular() {
			return
		}
		b, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = b
	})
	return out
}

func (d folderTarget) leftovers(t *testing.T) []string { return tempFilesUnder(t, string(d)) }

// isLeftoverName reports what tempFilesUnder counts as a temp file.
func isLeftoverName(base string) bool {
	return strings.HasSuffix(base, ".tmp") || strings.Contains(base, ".partial")
}

// bucketTarget is a prefix of a versitygw bucket, read through the S3 API.
type bucketTarget struct {
	gw           *servers.S3Server
	bucket, root string
}

func (b bucketTarget) files(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, k := range b.gw.Keys(t, b.bucket) {
		rel, ok := strings.CutPrefix(k, b.root+"/")
		if !ok || strings.HasSuffix(k, "/") {
			continue
		}
		res, err := b.gw.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("get %s/%s: %v", b.bucket, k, err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = body
	}
	return out
}

func (b bucketTarget) leftovers(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, k := range b.gw.Uploads(t, b.bucket) {
		if strings.HasPrefix(k, b.root+"/") {
			out = append(out, "upload "+k)
		}
	}
	return out
}

// killCase is one command, killed again and again.
type killCase struct {
	name string
	env  []string
	// args is the command for round's fresh target (rounds -2 and -1: the
	// timing runs).
	args func(round int) []string
	// target is what round's command writes.
	target func(round int) killTarget
	// check asserts what must hold after a kill in round, and after the
	// re-run (done); it returns a one-line description of what is there.
	check func(t *testing.T, round int, files map[string][]byte, done bool) string
}

// TestKillAnyMoment: every command of killCases is run once to time it,
// then killed killsPerCommand times at seeded random moments within that
// time (REGBACKUP_KILL_SEED picks the seed), each time into a fresh target;
// after each kill the target is checked, the same command is run again to
// completion, and the target must then equal the source with nothing left
// behind.
func TestKillAnyMoment(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("REGBACKUP_KILL_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("REGBACKUP_KILL_SEED=%q: %v", s, err)
		}
	}
	t.Logf("seed %d (REGBACKUP_KILL_SEED=%d repeats these moments)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))

	gw := servers.StartVersityGW(t)
	base := t.TempDir()
	var srcs = map[string]string{}
	var archives = map[string]string{}
	for _, v := range Versions {
		r, root, f := seedRegistry(t, v)
		addBigImage(t, r, &f) // 12 MiB: multipart uploads on S3
		r.Stop()
		srcs[v] = root
		archives[v] = backupArchive(t, root)
	}
	want := map[string]map[string][]byte{}
	for v, root := range srcs {
		want[v] = referenced(folderTarget(root).files(t))
		t.Logf("source %s: %d files (with the blobs links name)", v, len(want[v]))
	}
	locks := filepath.Join(base, "locks") // one folder per case: the cases run in parallel, some on one source
	slow := "REGBACKUP_TEST_IO_DELAY=15ms"
	dir := func(name string, round int) string { return filepath.Join(base, fmt.Sprintf("%s-%d", name, round)) }
	var mu sync.Mutex // bucket is called by parallel subtests
	buckets := map[string]string{}
	bucket := func(name string, round int) string {
		mu.Lock()
		defer mu.Unlock()
		k := fmt.Sprintf("%s-%d", name, round)
		if buckets[k] == "" {
			buckets[k] = gw.NewBucket(t)
		}
		return buckets[k]
	}
	storage := func(v string) func(t *testing.T, round int, files map[string][]byte, done bool) string {
		return func(t *testing.T, round int, files map[string][]byte, done bool) string {
			t.Helper()
			s := checkKilledStorage(t, files)
			if done {
				diffFiles(t, want[v], files)
			}
			return s
		}
	}
	cases := []killCase{
		{name: "restore-folder",
			args: func(round int) []string {
				return []string{"restore", archives[V3], "--to", dir("restore", round), "--lock-dir", locks + "-restore-folder", "--concurrency", "2"}
			},
			target: func(round int) killTarget { return folderTarget(dir("restore", round)) },
			check:  storage(V3)},
		{name: "restore-s3", env: gw.Env(),
			args: func(round int) []string {
				return []string{"restore", archives[V28], "--to", gw.Location(bucket("restore", round), "reg"), "--lock-dir", locks + "-restore-s3", "--concurrency", "2"}
			},
			target: func(round int) killTarget { return bucketTarget{gw, bucket("restore", round), "reg"} },
			check:  storage(V28)},
		{name: "copy-folder",
			args: func(round int) []string {
				return []string{"copy", "--from", srcs[V28], "--to", dir("copy", round), "--lock-dir", locks + "-copy-folder", "--concurrency", "2"}
			},
			target: func(round int) killTarget { return folderTarget(dir("copy", round)) },
			check:  storage(V28)},
		{name: "copy-s3", env: gw.Env(),
			args: func(round int) []string {
				return []string{"copy", "--from", srcs[V3], "--to", gw.Location(bucket("copy", round), "reg"), "--lock-dir", locks + "-copy-s3", "--concurrency", "2"}
			},
			target: func(round int) killTarget { return bucketTarget{gw, bucket("copy", round), "reg"} },
			check:  storage(V3)},
		{name: "backup-folder",
			args: func(round int) []string {
				if err := os.MkdirAll(dir("backup", round), 0o755); err != nil {
					t.Fatal(err)
				}
				return []string{"backup", "--from", srcs[V3], "-o", filepath.Join(dir("backup", round), "registry.tar.zst"),
					"--lock-dir", locks + "-backup-folder", "--concurrency", "2", "--force"}
			},
			target: func(round int) killTarget { return folderTarget(dir("backup", round)) },
			check: func(t *testing.T, round int, files map[string][]byte, done bool) string {
				return checkKilledArchive(t, files, "registry.tar.zst", filepath.Join(dir("backup", round), "registry.tar.zst"), nil, want[V3], done)
			}},
		{name: "backup-s3", env: gw.Env(),
			args: func(round int) []string {
				return []string{"backup", "--from", srcs[V28], "-o", gw.Location(bucket("backup", round), "arch/registry.tar.zst"),
					"--lock-dir", locks + "-backup-s3", "--concurrency", "2", "--force"}
			},
			target: func(round int) killTarget { return bucketTarget{gw, bucket("backup", round), "arch"} },
			check: func(t *testing.T, round int, files map[string][]byte, done bool) string {
				return checkKilledArchive(t, files, "registry.tar.zst", gw.Location(bucket("backup", round), "arch/registry.tar.zst"),
					gw.Env(), want[V28], done)
			}},
	}
	// The moments, as fractions of a run's time, drawn in a fixed order
	// before the subtests run in parallel.
	fractions := make([][]float64, len(cases))
	for i := range cases {
		for range killsPerCommand {
			fractions[i] = append(fractions[i], rng.Float64()*0.8) // a re-run is a little faster than the first
		}
	}
	for i, kc := range cases {
		t.Run(kc.name, func(t *testing.T) {
			t.Parallel()
			runKillRounds(t, kc, fractions[i], slow)
		})
	}
}

// runKillRounds times kc's command, then for each fraction kills it at
// that fraction of its time into a fresh target, and a last time (aimed)
// as soon as it has left something behind; after each kill it checks the
// target, runs the command again and checks that the target is complete.
func runKillRounds(t *testing.T, kc killCase, fractions []float64, slow string) {
	env := append(append([]string(nil), kc.env...), slow)
	took := time.Duration(math.MaxInt64)
	for round := -2; round < 0; round++ { // twice: the first may be slowed by a cold cache or the other cases
		start := time.Now()
		if code, out := runKillable(t, env, kc.args(round), -1, nil); code != 0 {
			t.Fatalf("timing run: exit %d\n%s", code, out)
		}
		took = min(took, time.Since(start))
		kc.check(t, round, kc.target(round).files(t), true)
	}
	var moments []string
	var leftTotal, killed int
	const aimedTries = 3 // a run may end before a poll sees its brief temp file
	aimedMissed := 0
	for round := 0; round < len(fractions)+1+min(aimedMissed, aimedTries-1); round++ {
		tg := kc.target(round)
		at, when, how := time.Duration(-1), func() bool { return len(tg.leftovers(t)) > 0 }, "aimed at its first leftover"
		if round < len(fractions) {
			at, when = time.Duration(fractions[round]*float64(took)), nil
			how = "at " + at.Round(time.Millisecond).String()
			moments = append(moments, at.Round(time.Millisecond).String())
		}
		code, out := runKillable(t, env, kc.args(round), at, when)
		if code == -1 {
			killed++
		}
		left := tg.leftovers(t)
		leftTotal += len(left)
		what := kc.check(t, round, tg.files(t), false)
		t.Logf("round %d: killed %s (exit %d): %d leftover(s) %v; %s", round, how, code, len(left), left, what)
		if t.Failed() {
			t.Fatalf("after the kill %s: output so far:\n%s", how, out)
		}
		if when != nil && (code != -1 || len(left) == 0) {
			if aimedMissed++; aimedMissed == aimedTries {
				t.Errorf("%d aimed kills found nothing left behind (last: exit %d, leftovers %v)", aimedTries, code, left)
			}
		}
		code, out = runKillable(t, env, kc.args(round), -1, nil)
		if code != 0 {
			t.Fatalf("round %d: the re-run after the kill %s: exit %d\n%s", round, how, code, out)
		}
		if len(left) > 0 && !strings.Contains(out, "notice: removed ") {
			t.Errorf("round %d: the re-run does not say it removed the leftovers %v:\n%s", round, left, out)
		}
		kc.check(t, round, tg.files(t), true)
		if rest := tg.leftovers(t); len(rest) > 0 {
			t.Errorf("round %d: the re-run left %v", round, rest)
		}
	}
	t.Logf("%s: a run takes %s; killed at %s and aimed %d time(s); %d of %d runs killed before they ended; %d leftover(s) in all, every one removed by the re-run",
		kc.name, took.Round(time.Millisecond), strings.Join(moments, " "), 1+aimedMissed, killed, len(fractions)+1+aimedMissed, leftTotal)
}

// runKillable runs regbackup with args and env, and SIGKILLs it after at,
// or once when (polled every 5 ms) returns true; with neither (at < 0,
// when nil) it lets it finish. It returns the exit code (-1 when killed)
// and stderr.
func runKillable(t *testing.T, env, args []string, at time.Duration, when func() bool) (int, string) {
	t.Helper()
	cmd := exec.Command(tool(t, "regbackup"), args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = dieWithTest()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	kill := make(<-chan time.Time) // never, unless at or when say
	if at >= 0 {
		kill = time.After(at)
	}
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	limit := time.After(2 * time.Minute)
	var err error
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
			break wait
		case <-poll.C:
			if when != nil && when() {
				cmd.Process.Signal(syscall.SIGKILL)
				err = <-done
				break wait
			}
		case <-limit:
			cmd.Process.Kill()
			<-done
			t.Fatalf("regbackup %s: still running after 2 minutes", strings.Join(args, " "))
		}
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// checkKilledStorage fails the test for a link file naming a blob that is
// absent or does not hash to its digest, and for a blob at its final path
// whose bytes do not hash to its digest. It returns what is there.
func checkKilledStorage(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var blobs, links int
	for p, b := range files {
		pp := archive.ParsePath(p)
		switch {
		case pp.Kind == archive.KindBlob:
			blobs++
			if got := sha256Digest(b); got != pp.Digest {
				t.Errorf("blob %s is there half-written: %d bytes hashing to %s", p, len(b), got)
			}
		case strings.HasSuffix(p, "/link"):
			links++
			dg := string(b)
			blob, ok := files[archive.BlobPath(dg)]
			switch {
			case !strings.HasPrefix(dg, "sha256:") || len(dg) != 71:
				t.Errorf("link %s holds %q, not a digest", p, b)
			case !ok:
				t.Errorf("link %s names %s, which is absent", p, dg)
			case sha256Digest(blob) != dg:
				t.Errorf("link %s names %s, which is incomplete (%d bytes)", p, dg, len(blob))
			}
		}
	}
	return fmt.Sprintf("%d blobs, %d links", blobs, links)
}

// checkKilledArchive checks an archive folder (files: its content, name:
// the archive's file name, loc: the archive's location for regbackup): an
// archive at its final name reads to its end and verifies (regbackup
// verify, with env). When done it must be there and hold exactly the
// source's (want) links and blobs.
func checkKilledArchive(t *testing.T, files map[string][]byte, name, loc string, env []string, want map[string][]byte, done bool) string {
	t.Helper()
	body, ok := files[name]
	if !ok {
		if done {
			t.Errorf("the re-run wrote no %s (folder holds %v)", loc, slices.Sorted(maps.Keys(files)))
		}
		return fmt.Sprintf("no archive (%v)", slices.Sorted(maps.Keys(files)))
	}
	if _, stderr, code := RegbackupEnv(t, env, "verify", loc); code != 0 {
		t.Errorf("%s is there but does not verify (exit %d):\n%s", loc, code, stderr)
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, body, 0o600); err != nil {
		t.Fatal(err)
	}
	links, blobs, _ := archiveContent(t, f)
	if done {
		wantLinks, wantBlobs := map[string]string{}, map[string]bool{}
		for p, b := range want {
			switch pp := archive.ParsePath(p); {
			case pp.Kind == archive.KindBlob:
				wantBlobs[pp.Digest] = true
			case strings.HasSuffix(p, "/link"):
				wantLinks[p] = string(b)
			}
		}
		if !maps.Equal(links, wantLinks) || !maps.Equal(blobs, wantBlobs) {
			t.Errorf("%s holds %d links and %d blobs, the source %d and %d (or others)", loc, len(links), len(blobs), len(wantLinks), len(wantBlobs))
		}
	}
	return fmt.Sprintf("complete archive of %d bytes (%d blobs, %d links), verified", len(body), len(blobs), len(links))
}

// referenced is a registry's files without the blobs no link file names
// (the fixture's deleted manifest), which backup and copy leave out.
func referenced(files map[string][]byte) map[string][]byte {
	named := map[string]bool{}
	for p, b := range files {
		if strings.HasSuffix(p, "/link") {
			named[archive.BlobPath(string(b))] = true
		}
	}
	out := map[string][]byte{}
	for p, b := range files {
		if archive.ParsePath(p).Kind != archive.KindBlob || named[p] {
			out[p] = b
		}
	}
	return out
}

// diffFiles fails the test unless got holds exactly want's paths and bytes.
func diffFiles(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	var missing, extra, differ []string
	for p, b := range want {
		switch g, ok := got[p]; {
		case !ok:
			missing = append(missing, p)
		case !bytes.Equal(g, b):
			differ = append(differ, p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			extra = append(extra, p)
		}
	}
	if len(missing)+len(extra)+len(differ) > 0 {
		slices.Sort(missing)
		slices.Sort(extra)
		slices.Sort(differ)
		t.Errorf("the target differs from the source: missing %v, extra %v, different %v", missing, extra, differ)
	}
}

func sha256Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}
