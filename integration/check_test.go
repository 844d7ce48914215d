package integration

// check on a real registry's storage (pushed with crane): a healthy
// registry passes (exit 0, orphans and uploads are notices); each planted
// fault (an empty link, a deleted blob, a corrupted blob with --read-data,
// an orphan blob, a stale upload) is named in the output and in --json,
// and damage exits 3. check writes nothing.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// checkJSON is the report inside check's --json outcome.
type checkJSON struct {
	Status   string        `json:"status"`
	ExitCode int           `json:"exit_code"`
	Problems []problemJSON `json:"problems"`
	Report   struct {
		Blobs    int  `json:"blobs"`
		Hashed   int  `json:"hashed"`
		ReadData bool `json:"read_data"`
		Uploads  int  `json:"uploads"`
		Orphans  []struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		} `json:"orphans"`
		StaleUploads []struct {
			Repository string  `json:"repository"`
			ID         string  `json:"id"`
			Size       int64   `json:"size"`
			AgeSeconds float64 `json:"age_seconds"`
		} `json:"stale_uploads"`
	} `json:"report"`
}

func runCheckJSON(t *testing.T, want int, args ...string) checkJSON {
	t.Helper()
	stdout, _ := expectExit(t, want, append([]string{"check", "--json"}, args...)...)
	var c checkJSON
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("check --json: %v\n%s", err, stdout)
	}
	return c
}

// startUpload begins a blob upload in repo and sends its first bytes, as
// a client interrupted mid-push leaves it. It returns the upload's id.
func startUpload(t *testing.T, r *Registry, repo string) string {
	t.Helper()
	resp, err := http.Post(r.URL()+"/v2/"+repo+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusAccepted || err != nil {
		t.Fatalf("start upload: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	id := resp.Header.Get("Docker-Upload-UUID")
	data := make([]byte, 20000)
	rand.Read(data)
	req, _ := http.NewRequest(http.MethodPatch, (&url.URL{Scheme: "http", Host: r.Addr}).ResolveReference(loc).String(), bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || id == "" {
		t.Fatalf("upload PATCH: %s (id %q)", resp.Status, id)
	}
	return id
}

func TestCheckRealRegistry(t *testing.T) {
	eachVersion(t, func(t *testing.T, v string) {
		r, root, f := seedRegistry(t, v)

		// Healthy: exit 0. The manifest deleted by digest is an orphan (GC
		// garbage), a notice only.
		_, stderr := expectExit(t, 0, "check", "--from", root, "--read-data")
		if !strings.Contains(stderr, "check: ") || !strings.Contains(stderr, "no damage") {
			t.Errorf("healthy check output:\n%s", stderr)
		}
		c := runCheckJSON(t, 0, "--from", root, "--read-data")
		if c.Status != "ok" || !c.Report.ReadData || c.Report.Hashed != c.Report.Blobs || c.Report.Blobs == 0 {
			t.Errorf("healthy check --json: %+v", c)
		}
		if !slices.ContainsFunc(c.Report.Orphans, func(o struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		}) bool {
			return o.Digest == f.Deleted
		}) {
			t.Errorf("the deleted manifest %s is not listed as an orphan: %+v", f.Deleted, c.Report.Orphans)
		}
		for _, p := range c.Problems {
			if p.Severity == "damage" {
				t.Errorf("damage in a healthy registry: %+v", p)
			}
		}

		// An upload in progress is counted, not stale by the 24 h default.
		uploadID := startUpload(t, r, "alpha")
		c = runCheckJSON(t, 0, "--from", root)
		if c.Report.Uploads != 1 || len(c.Report.StaleUploads) != 0 {
			t.Errorf("a fresh upload: uploads %d, stale %+v; want 1 upload, none stale", c.Report.Uploads, c.Report.StaleUploads)
		}

		// Plant the faults.
		emptyLink := filepath.Join(root, "docker/registry/v2/repositories/alpha/_manifests/tags/v1/current/link")
		if err := os.WriteFile(emptyLink, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		beta2 := getManifest(t, r.Ref("team/beta:2.0"))
		deleted := beta2.Layers[len(beta2.Layers)-1].Digest // l3, only in team/beta:2.0
		if err := os.Remove(blobFile(root, deleted)); err != nil {
			t.Fatal(err)
		}
		alpha2 := getManifest(t, r.Ref("alpha:v2"))
		corrupt := alpha2.Layers[len(alpha2.Layers)-1].Digest // l2, only in alpha:v2
		flipByte(t, blobFile(root, corrupt))
		orphanData := make([]byte, 5000)
		rand.Read(orphanData)
		sum := sha256.Sum256(orphanData)
		orphan := "sha256:" + hex.EncodeToString(sum[:])
		if err := os.MkdirAll(filepath.Dir(blobFile(root, orphan)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(blobFile(root, orphan), orphanData, 0o644); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // the upload is older than --stale-uploads 1s
		before := treeListing(t, root)

		// Without --read-data: all but the corrupt blob.
		emptyRel := "docker/registry/v2/repositories/alpha/_manifests/tags/v1/current/link"
		_, stderr = expectExit(t, 3, "check", "--from", root, "--stale-uploads", "1s")
		for what, s := range map[string]string{
			"empty link": "damage: " + emptyRel + ": empty link file", "deleted blob": "damage: " + deleted,
			"orphan": strings.TrimPrefix(orphan, "sha256:"), "stale upload": "_uploads/" + uploadID,
		} {
			if !strings.Contains(stderr, s) {
				t.Errorf("check does not name the %s (%q):\n%s", what, s, stderr)
			}
		}
		if strings.Contains(stderr, strings.TrimPrefix(corrupt, "sha256:")) {
			t.Errorf("check without --read-data names the corrupt blob %s (it cannot know):\n%s", corrupt, stderr)
		}
		if line := errorLine(t, stderr); !strings.Contains(line, "registry storage is damaged") {
			t.Errorf("error line: %s", line)
		}

		// With --read-data, in --json too: every fault.
		_, stderr = expectExit(t, 3, "check", "--from", root, "--stale-uploads", "1s", "--read-data")
		t.Logf("check --read-data of the damaged registry says:\n%s", stderr)
		if !strings.Contains(stderr, "damage: docker/registry/v2/blobs/sha256/"+corrupt[7:9]+"/"+corrupt[7:]+"/data: content") ||
			!strings.Contains(stderr, "linked by alpha") {
			t.Errorf("check --read-data does not name the corrupt blob %s:\n%s", corrupt, stderr)
		}
		c = runCheckJSON(t, 3, "--from", root, "--stale-uploads", "1s", "--read-data")
		has := func(sev, field string) bool {
			return slices.ContainsFunc(c.Problems, func(p problemJSON) bool {
				return p.Severity == sev && (p.Path == field || p.Digest == field)
			})
		}
		if c.Status != "damaged" || c.ExitCode != 3 {
			t.Errorf("status %q exit %d, want damaged 3", c.Status, c.ExitCode)
		}
		if !has("damage", emptyRel) {
			t.Errorf("--json problems lack the empty link %s: %+v", emptyRel, c.Problems)
		}
		if !has("damage", deleted) {
			t.Errorf("--json problems lack the deleted blob %s: %+v", deleted, c.Problems)
		}
		if !has("damage", "docker/registry/v2/blobs/sha256/"+corrupt[7:9]+"/"+corrupt[7:]+"/data") {
			t.Errorf("--json problems lack the corrupt blob %s: %+v", corrupt, c.Problems)
		}
		if !slices.ContainsFunc(c.Report.Orphans, func(o struct {
			Digest string `json:"digest"`
			Size   int64  `json:"size"`
		}) bool {
			return o.Digest == orphan && o.Size == 5000
		}) {
			t.Errorf("--json orphans lack %s: %+v", orphan, c.Report.Orphans)
		}
		if len(c.Report.StaleUploads) != 1 || c.Report.StaleUploads[0].ID != uploadID || c.Report.StaleUploads[0].Repository != "alpha" ||
			c.Report.StaleUploads[0].Size < 20000 || c.Report.StaleUploads[0].AgeSeconds < 1 {
			t.Errorf("--json stale uploads %+v, want alpha's upload %s of 20000+ bytes", c.Report.StaleUploads, uploadID)
		}

		// check wrote nothing.
		if d := diffListings(before, treeListing(t, root)); d != "" {
			t.Errorf("check changed the storage:\n%s", d)
		}
	})
}

// flipByte changes one byte in the middle of a file, keeping its size.
func flipByte(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckUsage: check explains itself and refuses what it cannot do.
func TestCheckUsage(t *testing.T) {
	stdout, _ := expectExit(t, 0, "check", "--help")
	for _, want := range []string{"Example", "regbackup check --from", "--read-data", "--stale-uploads", "--wait", "--lock-dir", "--metrics-file", "0 healthy", "3 damage"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("check --help does not mention %q", want)
		}
	}
	_, stderr := expectExit(t, 2, "check")
	if line := errorLine(t, stderr); !strings.Contains(line, "--from, --registry-config or --gitlab is required") {
		t.Errorf("check without --from: %s", line)
	}
	_, stderr = expectExit(t, 1, "check", "--from", filepath.Join(t.TempDir(), "nothing-here"))
	if line := errorLine(t, stderr); !strings.Contains(line, "does not exist") {
		t.Errorf("check of a missing root: %s", line)
	}
}
