package archive

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

func newIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	must(t, err)
	return id
}

func writeEncrypted(t testing.TB, s *sample, c Compression, to ...age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Compression: c, Recipients: to})
	must(t, err)
	cat := &Catalog{Source: "test", Created: time.Unix(1700000000, 0)}
	for _, d := range s.order {
		cat.Blobs = append(cat.Blobs, Blob{Digest: d, Size: int64(len(s.blobs[d]))})
	}
	must(t, w.WriteCatalog(cat))
	for _, d := range s.order {
		_, err := w.WriteBlob(d, int64(len(s.blobs[d])), bytes.NewReader(s.blobs[d]), false)
		must(t, err)
	}
	must(t, w.Close())
	return buf.Bytes()
}

func readAllWith(data []byte, ids ...age.Identity) (*Reader, error) {
	r, err := NewReaderOptions(bytes.NewReader(data), ReaderOptions{Identities: ids})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	for {
		_, err := r.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return r, nil
			}
			return r, err
		}
	}
}

func TestEncryptedRoundTrip(t *testing.T) {
	s := newSampleSizes(0, 1, 1000, 300<<10, 2<<20)
	alice, bob := newIdentity(t), newIdentity(t)
	for _, c := range []Compression{Zstd, Gzip, None} {
		data := writeEncrypted(t, s, c, alice.Recipient(), bob.Recipient())
		if !bytes.HasPrefix(data, ageMagic) {
			t.Fatalf("%s: no age header at the start", c)
		}
		if bytes.Contains(data, s.blobs[s.order[3]][:64]) {
			t.Fatalf("%s: blob content readable in the encrypted archive", c)
		}
		for _, id := range []age.Identity{alice, bob} {
			r, err := readAllWith(data, newIdentity(t), id)
			if err != nil {
				t.Fatalf("%s: %v", c, err)
			}
			held := 0
			for _, d := range s.order {
				if r.Held(d) {
					held++
				}
			}
			if !r.Encrypted() || r.Compression() != c || held != len(s.order) {
				t.Errorf("%s: encrypted=%v compression=%s blobs=%d", c, r.Encrypted(), r.Compression(), held)
			}
		}
	}
}

func TestEncryptedNeedsTheRightIdentity(t *testing.T) {
	s := newSample(t)
	data := writeEncrypted(t, s, Zstd, newIdentity(t).Recipient())
	if _, err := NewReader(bytes.NewReader(data)); !errors.Is(err, ErrEncrypted) {
		t.Errorf("no identity: err = %v, want ErrEncrypted", err)
	}
	if _, err := NewReaderOptions(bytes.NewReader(data), ReaderOptions{Identities: []age.Identity{newIdentity(t)}}); !errors.Is(err, ErrNoIdentityMatch) {
		t.Errorf("wrong identity: err = %v, want ErrNoIdentityMatch", err)
	}
}

// age's payload is authenticated: any flipped byte after the header, or a
// cut, is an integrity error, never silently different data.
func TestEncryptedTamperDetected(t *testing.T) {
	s := newSampleSizes(0, 1, 1000, 300<<10, 2<<20)
	id := newIdentity(t)
	data := writeEncrypted(t, s, Zstd, id.Recipient())
	hdrEnd := bytes.Index(data, []byte("\n---")) + 50
	for _, at := range []int{hdrEnd + 10, len(data) / 2, len(data) - 20} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x40
		_, err := readAllWith(bad, id)
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncomplete) {
			t.Errorf("byte %d of %d flipped: err = %v, want an integrity error", at, len(data), err)
		}
	}
	for _, cut := range []int{hdrEnd + 100, len(data) / 2, len(data) - 1} {
		_, err := readAllWith(data[:cut], id)
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrIncomplete) {
			t.Errorf("cut at %d of %d: err = %v, want an integrity error", cut, len(data), err)
		}
	}
}

func TestParseKeys(t *testing.T) {
	id := newIdentity(t)
	pub := id.Recipient().String()
	rs, err := ParseRecipients([]byte("# backup key\n\n" + pub + "\n  " + newIdentity(t).Recipient().String() + "  \n"))
	if err != nil || len(rs) != 2 {
		t.Fatalf("recipients file: %d, %v", len(rs), err)
	}
	if _, err := ParseRecipient(id.String()); err == nil || strings.Contains(err.Error(), id.String()[20:40]) {
		t.Errorf("a private key as recipient: err = %v (must fail without quoting it)", err)
	}
	for _, bad := range []string{"age1xyz", "ssh-ed25519 AAAA", "hello"} {
		if _, err := ParseRecipient(bad); err == nil {
			t.Errorf("recipient %q accepted", bad)
		}
	}
	ids, err := ParseIdentities([]byte("# created: today\n# public key: " + pub + "\n" + id.String() + "\n"))
	if err != nil || len(ids) != 1 {
		t.Fatalf("identity file: %d, %v", len(ids), err)
	}
	broken := id.String()[:40] + "QQQQ" + id.String()[44:]
	if _, err := ParseIdentities([]byte(broken + "\n")); err == nil || strings.Contains(err.Error(), broken[16:36]) {
		t.Errorf("broken identity: err = %v (must fail without quoting it)", err)
	}
	if _, err := ParseIdentities([]byte(pub + "\n")); err == nil {
		t.Error("a public key accepted as identity")
	}
}
