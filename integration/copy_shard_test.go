package integration

// regbackup copy --shard: the shards of a copy run side by side into one
// versitygw bucket, each copying the blobs of its digest-prefix range and
// nothing else, and a plain copy afterwards writes the links.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/regbackup/regbackup/integration/servers"
)

// shardsOf4 is how many shards TestCopyShards cuts the copy into. With 4,
// shard i holds the digests whose first hex digit is 4i to 4i+3.
const shardsOf4 = 4

// TestCopyShards: a Distribution 3 filesystem registry serving the fixture
// is copied into a versitygw bucket by the 4 shards of a copy, run side by
// side with one lock folder. Each shard's dry run names only blobs whose
// digest starts with a hex digit of its range, and the 4 name disjoint sets;
// the real runs copy exactly those, skip none (no shard writes another's
// blob) and leave the bucket holding those blobs and nothing else: no link
// file, no lockfile. A plain copy afterwards copies no blob, finds them all,
// writes the links, and a Distribution 3 registry on the bucket serves
// every tag at the source's digest.
func TestCopyShards(t *testing.T) {
	gw := servers.StartVersityGW(t)
	root := filepath.Join(t.TempDir(), "registry")
	f := PushFixture(t, StartRegistry(t, V3, root))
	bucket := gw.NewBucket(t)
	locks := filepath.Join(t.TempDir(), "locks")
	args := []string{"copy", "--from", root, "--to", gw.Location(bucket, "reg"), "--lock-dir", locks, "--json"}
	shardArgs := func(i int, extra ...string) []string {
		return append(append(append([]string(nil), args...), "--shard", fmt.Sprintf("%d/%d", i, shardsOf4)), extra...)
	}

	owner := map[string]int{} // blob path -> the shard whose dry run names it
	perShard := make([]int, shardsOf4)
	for i := range shardsOf4 {
		_, stderr := regbackupS3(t, gw, 0, shardArgs(i, "--dry-run")...)
		for _, l := range lines(stderr) {
			p, ok := strings.CutPrefix(l, "would ")
			if !ok {
				continue
			}
			action, p, _ := strings.Cut(p, " ")
			hex, isBlob := strings.CutPrefix(p, "docker/registry/v2/blobs/sha256/")
			if action != "copy" || !isBlob {
				t.Errorf("shard %d/%d would %s %s: a shard writes blobs only", i, shardsOf4, action, p)
				continue
			}
			if j, dup := owner[p]; dup {
				t.Errorf("%s is in shards %d and %d", p, j, i)
			}
			owner[p] = i
			perShard[i]++
			if first := strings.IndexByte("0123456789abcdef", hex[0]); first/(16/shardsOf4) != i {
				t.Errorf("shard %d/%d would copy %s, outside its prefix range", i, shardsOf4, p)
			}
		}
	}
	nonEmpty := 0
	for _, n := range perShard {
		if n > 0 {
			nonEmpty++
		}
	}
	t.Logf("blobs per shard: %v", perShard)
	if nonEmpty < 2 {
		t.Fatalf("the shards' dry runs name %v blobs: too few shards with work for a test of shards", perShard)
	}

	results := regbackupSideBySide(t, gw.Env(), shardsOf4, func(i int) []string { return shardArgs(i) })
	for i, res := range results {
		if res.code != 0 {
			t.Fatalf("shard %d/%d: exit %d\n%s", i, shardsOf4, res.code, res.stderr)
		}
		j := parseCopyJSON(t, res.stdout)
		if j.Report.Shard != fmt.Sprintf("%d/%d", i, shardsOf4) || j.Report.Blobs+j.Report.ServerSide != perShard[i] || j.Report.Skipped != 0 ||
			j.Report.Links != 0 || j.Report.OtherShards != len(owner)-perShard[i] {
			t.Errorf("shard %d/%d: shard %q, %d blobs copied, %d skipped, %d in other shards, %d links; want %d copied (its dry run's), 0 skipped, %d, 0 links",
				i, shardsOf4, j.Report.Shard, j.Report.Blobs+j.Report.ServerSide, j.Report.Skipped, j.Report.OtherShards, j.Report.Links, perShard[i], len(owner)-perShard[i])
		}
	}
	for _, k := range registryKeys(t, gw, bucket, "reg") {
		if _, ok := owner[k]; !ok {
			t.Errorf("after the shards the bucket holds %s: want only the blobs their dry runs named", k)
		}
		delete(owner, k)
	}
	for p, i := range owner {
		t.Errorf("shard %d/%d did not copy %s", i, shardsOf4, p)
	}

	stdout, _ := regbackupS3(t, gw, 0, args...)
	j := parseCopyJSON(t, stdout)
	total := 0
	for _, n := range perShard {
		total += n
	}
	if j.Report.Blobs+j.Report.ServerSide != 0 || j.Report.Skipped != total || j.Report.Links == 0 || j.Report.Shard != "" {
		t.Errorf("plain copy after the shards: %d blobs copied, %d skipped, %d links; want none copied, %d skipped, every link written",
			j.Report.Blobs+j.Report.ServerSide, j.Report.Skipped, j.Report.Links, total)
	}
	CheckServes(t, StartRegistryOpts(t, RegistryOptions{Version: V3, Storage: s3Storage(gw, V3, bucket, "/reg")}), f)
}

// runResult is what one regbackup process of regbackupSideBySide gave.
type runResult struct {
	stdout, stderr string
	code           int
}

// regbackupSideBySide starts n regbackup processes at once, the i-th with
// args(i) and env added to its environment, and waits for all of them.
func regbackupSideBySide(t *testing.T, env []string, n int, args func(i int) []string) []runResult {
	t.Helper()
	bin := tool(t, "regbackup")
	ctx, cancel := context.WithTimeout(t.Context(), RegbackupTimeout)
	defer cancel()
	cmds := make([]*exec.Cmd, n)
	outs := make([][2]bytes.Buffer, n)
	start := time.Now()
	for i := range n {
		cmds[i] = exec.CommandContext(ctx, bin, args(i)...)
		cmds[i].Env = append(os.Environ(), env...)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i][0], &outs[i][1]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	res := make([]runResult, n)
	for i, cmd := range cmds {
		err := cmd.Wait()
		res[i] = runResult{outs[i][0].String(), outs[i][1].String(), cmd.ProcessState.ExitCode()}
		t.Logf("regbackup %s: %v after %s", strings.Join(args(i), " "), exitStatus(err), time.Since(start).Round(time.Millisecond))
	}
	if ctx.Err() != nil {
		t.Fatalf("%d regbackup runs side by side: not done after %s", n, RegbackupTimeout)
	}
	return res
}
