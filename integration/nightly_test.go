package integration

// A week of nightly incremental backups with retention against a live
// registry, and encrypted archives: what a cron job does, and what a
// restore of any kept night gives back.

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// servedTags is every tag the registry serves and its digest.
func servedTags(t testing.TB, r *Registry) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, repo := range catalog(t, r) {
		ls, err := craneErr(t, "ls", r.Ref(repo))
		if err != nil && strings.Contains(err.Error(), "NAME_UNKNOWN") {
			// A repository left with layer links and no tag (its last tags
			// deleted, or left out of a snapshot as deleted while it was
			// taken): the registry lists it but has no tags folder to list,
			// as on object storage, where an empty folder does not exist.
			continue
		}
		if err != nil {
			t.Fatalf("registry %s: %v", r.Version, err)
		}
		for _, tag := range lines(ls) {
			out[repo+":"+tag] = crane(t, "digest", r.Ref(repo+":"+tag))
		}
	}
	return out
}

// checkServedAs restores nothing: it starts a registry of version v on root
// and checks that it serves exactly want, every tag valid (every blob there
// and digest-checked by crane).
func checkServedAs(t testing.TB, v, root string, want map[string]string) {
	t.Helper()
	r := StartRegistry(t, v, root)
	defer r.Stop()
	got := servedTags(t, r)
	if !slices.Equal(sortedKeys(got), sortedKeys(want)) {
		t.Errorf("registry %s on %s serves tags %v, want %v", v, root, sortedKeys(got), sortedKeys(want))
	}
	for ref, d := range want {
		if got[ref] != d {
			t.Errorf("registry %s on %s: %s = %s, want %s as served that night", v, root, ref, got[ref], d)
			continue
		}
		if _, err := craneErr(t, "validate", "--remote", r.Ref(ref)); err != nil {
			t.Errorf("registry %s on %s: %v", v, root, err)
		}
	}
}

// nightlyRun is the JSON summary of one `backup --json` run.
type nightlyRun struct {
	Archive string `json:"archive"`
	Report  struct {
		Blobs          int      `json:"blobs"`
		Parents        []string `json:"parents"`
		InheritedBlobs int      `json:"inherited_blobs"`
	} `json:"report"`
	Incremental map[string]any `json:"incremental"`
	Prune       struct {
		Archives []struct {
			Path    string   `json:"path"`
			Keep    bool     `json:"keep"`
			Reasons []string `json:"reasons"`
		} `json:"archives"`
		Deleted int `json:"deleted"`
	} `json:"prune"`
}

// TestNightlyWeek plays a week of the documented cron line, one run per
// "night" (REGBACKUP_NOW), against a live registry that changes between
// runs: pushes, a re-tag, a delete, a quiet night, a tag moved by a push.
// Every run is incremental on the one before and prunes with --keep-daily
// 3 --keep-weekly 2. Then: the newest archive and an older kept one each
// restore into an empty root that a registry serves exactly as it served
// that night; a missing parent is named and exits 5.
func TestNightlyWeek(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, _ := seedRegistry(t, v)
		dir := filepath.Join(t.TempDir(), "backups")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		layers := t.TempDir()
		pattern := filepath.Join(dir, "registry-{date}.tar.zst")
		R := r.Ref
		start := time.Date(2026, 11, 17, 2, 0, 0, 0, time.UTC) // a Tuesday
		nights := []struct {
			name   string
			change func()
		}{
			{"fixture only", func() {}},
			{"a new repository", func() {
				crane(t, "append", "-f", makeLayer(t, layers, "n1", 90<<10), "-t", R("nightly/app:1"))
			}},
			{"re-tag and a push", func() {
				crane(t, "tag", R("alpha:v1"), "latest")
				crane(t, "append", "-b", R("nightly/app:1"), "-f", makeLayer(t, layers, "n2", 80<<10), "-t", R("nightly/app:2"))
			}},
			{"a manifest deleted", func() {
				crane(t, "delete", R("team/beta@"+crane(t, "digest", R("team/beta:1.0"))))
			}},
			{"nothing changed", func() {}},
			{"a tag moved by a push", func() {
				crane(t, "append", "-b", R("alpha:v2"), "-f", makeLayer(t, layers, "n5", 70<<10), "-t", R("alpha:v2"))
			}},
			{"one more push", func() {
				crane(t, "append", "-f", makeLayer(t, layers, "n6", 60<<10), "-t", R("nightly/other:1"))
			}},
		}
		served := map[string]map[string]string{} // archive file name -> tags served that night
		var runs []nightlyRun
		for i, n := range nights {
			n.change()
			night := start.AddDate(0, 0, i)
			env := []string{"REGBACKUP_NOW=" + night.Format(time.RFC3339), "TZ=UTC"}
			args := []string{"backup", "--from", root, "-o", pattern, "--incremental",
				"--keep-daily", "3", "--keep-weekly", "2", "--json"}
			stdout, stderr, code := RegbackupEnv(t, env, args...)
			if code != 0 {
				t.Fatalf("night %d (%s): exit %d\n%s", i, n.name, code, stderr)
			}
			var run nightlyRun
			if err := json.Unmarshal([]byte(stdout), &run); err != nil {
				t.Fatalf("night %d: --json is not JSON: %v\n%s", i, err, stdout)
			}
			runs = append(runs, run)
			name := filepath.Base(run.Archive)
			if want := "registry-" + night.Format("2006-01-02") + ".tar.zst"; name != want {
				t.Fatalf("night %d wrote %s, want %s", i, name, want)
			}
			served[name] = servedTags(t, r)
			if i == 0 && (len(run.Report.Parents) != 0 || !strings.Contains(stderr, "writing a full backup")) {
				t.Errorf("night 0: parents %v; want a full backup, said so:\n%s", run.Report.Parents, stderr)
			}
			if i > 0 && (len(run.Report.Parents) == 0 || run.Report.InheritedBlobs == 0) {
				t.Errorf("night %d (%s): not incremental: %+v", i, n.name, run.Report)
			}
			t.Logf("night %d (%s): %s, %d blobs written, %d in parents %v", i, n.name, name,
				run.Report.Blobs, run.Report.InheritedBlobs, run.Report.Parents)
		}
		names := func(i int) string { return "registry-" + start.AddDate(0, 0, i).Format("2006-01-02") + ".tar.zst" }

		// Quiet nights write nothing but metadata: a small archive.
		for _, i := range []int{3, 4} {
			fi, err := os.Stat(filepath.Join(dir, names(4)))
			if runs[i].Report.Blobs != 0 || err != nil || fi.Size() > 64<<10 {
				t.Errorf("night %d (%s) wrote %d blobs, archive %v bytes; want 0 blobs, a small archive", i, nights[i].name, runs[i].Report.Blobs, fi)
			}
		}
		// New layers land only in their night's archive.
		for _, i := range []int{1, 2, 5, 6} {
			if b := runs[i].Report.Blobs; b < 2 || b > 3 {
				t.Errorf("night %d (%s) wrote %d blobs, want the new layer, config and manifest", i, nights[i].name, b)
			}
		}

		// Retention: the last 3 days (and this week's and last week's
		// newest) are kept, with every parent they need: night 3 holds no
		// blob anyone needs and is the only one deleted.
		var left []string
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			left = append(left, e.Name())
		}
		want := []string{}
		for _, i := range []int{0, 1, 2, 4, 5, 6} {
			want = append(want, names(i), names(i)+".meta.json")
		}
		slices.Sort(want)
		if !slices.Equal(left, want) {
			t.Errorf("after a week the folder holds %v\nwant %v", left, want)
		}
		last := runs[len(runs)-1]
		for _, a := range last.Prune.Archives {
			if filepath.Base(a.Path) == names(0) && (!a.Keep || !strings.Contains(strings.Join(a.Reasons, ","), "parent of")) {
				t.Errorf("night 0 kept=%v for %v; want kept as a parent", a.Keep, a.Reasons)
			}
		}

		// Every archive left verifies with its chain.
		for _, i := range []int{0, 1, 2, 4, 5, 6} {
			mustRegbackup(t, 0, "verify", "-q", filepath.Join(dir, names(i)))
		}

		// The newest night, and an older one kept as a parent, restore
		// into empty roots served exactly as that night.
		for _, i := range []int{6, 2} {
			to := filepath.Join(t.TempDir(), "restored")
			mustRegbackup(t, 0, "restore", "-q", filepath.Join(dir, names(i)), "--to", to)
			checkServedAs(t, v, to, served[names(i)])
		}

		// A missing parent is named, nothing is written, exit 5; --parent
		// finds it under any name.
		moved := filepath.Join(t.TempDir(), "moved.bin")
		if err := os.Rename(filepath.Join(dir, names(1)), moved); err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(t.TempDir(), "restored")
		_, stderr := mustRegbackup(t, 5, "restore", filepath.Join(dir, names(6)), "--to", to)
		if !strings.Contains(stderr, names(1)) || !strings.Contains(stderr, "--parent") {
			t.Errorf("missing parent: stderr does not name %s and say --parent:\n%s", names(1), stderr)
		}
		if _, err := os.Stat(to); !os.IsNotExist(err) {
			t.Errorf("a restore that failed for a missing parent created %s", to)
		}
		mustRegbackup(t, 0, "verify", "-q", "--parent", moved, filepath.Join(dir, names(6)))
		if err := os.Rename(moved, filepath.Join(dir, names(1))); err != nil {
			t.Fatal(err)
		}

		// prune by hand: --dry-run says what would go and deletes nothing;
		// keeping only the newest keeps its whole chain and deletes the
		// quiet night 4, which nothing needs.
		before := treeListing(t, dir)
		_, stderr = mustRegbackup(t, 0, "prune", dir, "--keep-last", "1", "--dry-run")
		if !strings.Contains(stderr, "would delete "+filepath.Join(dir, names(4))) ||
			!strings.Contains(stderr, "keep "+filepath.Join(dir, names(0))) {
			t.Errorf("prune --dry-run output does not say it would delete night 4 and keep night 0:\n%s", stderr)
		}
		if diff := diffListings(before, treeListing(t, dir)); diff != "" {
			t.Errorf("prune --dry-run changed the folder:\n%s", diff)
		}
		mustRegbackup(t, 0, "prune", "-q", pattern, "--keep-last", "1")
		for i := range nights {
			_, err := os.Stat(filepath.Join(dir, names(i)))
			if gone := i == 3 || i == 4; gone != os.IsNotExist(err) {
				t.Errorf("after prune --keep-last 1: night %d exists=%v, want %v", i, err == nil, !gone)
			}
		}
		mustRegbackup(t, 0, "verify", "-q", filepath.Join(dir, names(6)))
	})
}

// TestEncryptedArchives: an encrypted incremental chain restores with the
// identity; without one the error says one is needed, with a wrong one
// that it cannot decrypt (both exit 6); a flipped byte exits 3. Key
// material in an unencrypted archive is warned about, even with --quiet.
func TestEncryptedArchives(t *testing.T) {
	t.Parallel()
	r, root, _ := seedRegistry(t, V3)
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	keyFile, otherFile := filepath.Join(dir, "key.txt"), filepath.Join(dir, "other.txt")
	os.WriteFile(keyFile, []byte("# public key: "+id.Recipient().String()+"\n"+id.String()+"\n"), 0o600)
	os.WriteFile(otherFile, []byte(other.String()+"\n"), 0o600)
	secret := filepath.Join(dir, "registry.key")
	os.WriteFile(secret, []byte("-----BEGIN PRIVATE KEY-----\nnot-really\n-----END PRIVATE KEY-----\n"), 0o600)

	a := filepath.Join(dir, "enc-1.tar.zst")
	_, stderr := mustRegbackup(t, 0, "backup", "-q", "--from", root, "-o", a, "--encrypt-to", id.Recipient().String(), "--include-file", secret)
	if strings.Contains(stderr, "WARNING") {
		t.Errorf("warned about key material in an encrypted archive:\n%s", stderr)
	}
	data, _ := os.ReadFile(a)
	if !bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) || bytes.Contains(data, []byte("not-really")) {
		t.Fatal("the archive is not age-encrypted")
	}
	crane(t, "append", "-f", makeLayer(t, t.TempDir(), "enc", 50<<10), "-t", r.Ref("enc/new:1"))
	b := filepath.Join(dir, "enc-2.tar.zst")
	mustRegbackup(t, 0, "backup", "-q", "--from", root, "-o", b, "--incremental-from", a, "--encrypt-to", id.Recipient().String(), "--include-file", secret)
	want := servedTags(t, r)
	r.Stop()

	_, stderr = mustRegbackup(t, 6, "list", b)
	if !strings.Contains(stderr, "enc-2.tar.zst is encrypted: pass --identity FILE") {
		t.Errorf("no identity: stderr does not say one is needed:\n%s", stderr)
	}
	_, stderr = mustRegbackup(t, 6, "restore", b, "--to", filepath.Join(dir, "never"), "--identity", otherFile)
	if !strings.Contains(stderr, "none of the identities in "+otherFile+" can decrypt") {
		t.Errorf("wrong identity: stderr does not say so:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "never")); !os.IsNotExist(err) {
		t.Error("a restore with the wrong identity created its target")
	}
	bad := filepath.Join(dir, "tampered.tar.zst")
	data[len(data)/2] ^= 0x01
	os.WriteFile(bad, data, 0o600)
	mustRegbackup(t, 3, "verify", "--identity", keyFile, bad)

	to := filepath.Join(t.TempDir(), "restored")
	mustRegbackup(t, 0, "restore", "-q", b, "--to", to, "--identity", keyFile, "--files-to", filepath.Join(dir, "files"))
	checkServedAs(t, V3, to, want)
	if got, _ := os.ReadFile(filepath.Join(dir, "files", "registry.key")); !bytes.Contains(got, []byte("not-really")) {
		t.Error("the included key did not come back from the encrypted archive")
	}

	_, stderr = mustRegbackup(t, 0, "backup", "-q", "--from", root, "-o", filepath.Join(dir, "plain.tar.zst"), "--include-file", secret)
	if !strings.Contains(stderr, "WARNING") || !strings.Contains(stderr, "UNENCRYPTED") {
		t.Errorf("no warning for key material in an unencrypted archive under --quiet:\n%s", stderr)
	}
}
