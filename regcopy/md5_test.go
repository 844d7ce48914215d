package regcopy

import (
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/internal/regtest"
)

// honestMD5 is a listing's MD5 as S3, GCS and Azure report it for a
// single-request upload: the content's.
func honestMD5(_ string, content []byte) string { return drivers.MD5Of(content) }

// TestCopyObjectStoreRerunMD5: into an object store whose listing reports
// content MD5s, a no-change re-run reads nothing at the target (each
// tag's current link is vouched for by its MD5); a tag moved at the
// target no longer matches, is read and rewritten; MD5s that are not the
// content's (S3 ETags under SSE-KMS) make it read every tag, as without
// MD5s, and write nothing.
func TestCopyObjectStoreRerunMD5(t *testing.T) {
	src, reg := regtest.Registry(t)
	mem := regtest.Mem(t)
	target := func(md5 func(string, []byte) string) *regtest.LatencyDriver {
		d := regtest.NewLatency(mem, 0)
		d.Hint, d.MD5 = 4, md5
		return d
	}
	if _, err := Copy(t.Context(), src, target(honestMD5), Options{}); err != nil {
		t.Fatal(err)
	}

	dst := target(honestMD5)
	rep, err := Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats, reads, puts := dst.Requests()
	if stats != 0 || reads != 0 || puts != 0 || rep.Links != 0 || rep.LinksUnchanged == 0 {
		t.Errorf("no-change re-run: %d stats, %d reads, %d puts, %d links written, %d unchanged; want 0, 0, 0, 0, all",
			stats, reads, puts, rep.Links, rep.LinksUnchanged)
	}

	im := reg.Tags[0]
	tag := archive.RegistryRoot + "repositories/" + im.Repo + "/_manifests/tags/" + im.Tag + "/current/link"
	other := reg.Tags[len(reg.Tags)-1].Digest
	if other == im.Digest {
		t.Fatal("the sample's first and last tags name the same manifest")
	}
	if err := mem.Put(t.Context(), tag, strings.NewReader(other), int64(len(other))); err != nil {
		t.Fatal(err)
	}
	dst = target(honestMD5)
	rep, err = Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, reads := dst.Stats("read"); reads != 1 || rep.Links != 1 {
		t.Errorf("after a tag moved at the target: %d reads, %d links written; want 1, 1 (that tag)", reads, rep.Links)
	}
	regtest.SameTags(t, mem, reg)

	notMD5 := func(p string, content []byte) string { return drivers.MD5Of([]byte("sse-kms:" + p)) }
	dst = target(notMD5)
	rep, err = Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, reads := dst.Stats("read"); reads != len(reg.Tags) || rep.Links != 0 {
		t.Errorf("listing MD5s that are not the content's: %d reads, %d links written; want %d (one per tag), 0",
			reads, rep.Links, len(reg.Tags))
	}
}

// TestCopyStaleMD5VerifyExisting: a tag's link changed behind the
// service's back keeps its old MD5 in the listing (a posix-backed gateway
// whose file was edited), so a plain re-run takes it as is; a re-run with
// VerifyExisting reads every link and rewrites it.
func TestCopyStaleMD5VerifyExisting(t *testing.T) {
	src, reg := regtest.Registry(t)
	mem := regtest.Mem(t)
	dst := regtest.NewLatency(mem, 0)
	dst.Hint, dst.MD5 = 4, honestMD5
	if _, err := Copy(t.Context(), src, dst, Options{}); err != nil {
		t.Fatal(err)
	}
	im := reg.Tags[0]
	tag := archive.RegistryRoot + "repositories/" + im.Repo + "/_manifests/tags/" + im.Tag + "/current/link"
	damaged := "sha256:" + strings.Repeat("0", 64)
	if err := mem.Put(t.Context(), tag, strings.NewReader(damaged), int64(len(damaged))); err != nil {
		t.Fatal(err)
	}
	dst.MD5 = func(p string, content []byte) string {
		if p == tag {
			return drivers.MD5Of([]byte(im.Digest)) // what the service recorded
		}
		return drivers.MD5Of(content)
	}
	rep, err := Copy(t.Context(), src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Links != 0 {
		t.Errorf("plain re-run over a stale MD5 wrote %d links; want 0 (the listing vouches for it)", rep.Links)
	}
	rep, err = Copy(t.Context(), src, dst, Options{VerifyExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Links != 1 {
		t.Errorf("verify-existing re-run over a damaged tag link wrote %d links; want 1", rep.Links)
	}
	regtest.SameTags(t, mem, reg)
}
