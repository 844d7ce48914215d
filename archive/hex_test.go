package archive

import (
	"strings"
	"testing"
)

func TestValidDigestHex(t *testing.T) {
	ok := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for d, want := range map[string]bool{
		ok:                         true,
		strings.ToUpper(ok[7:]):    false,
		"sha256:" + ok[8:]:         false,
		ok + "0":                   false,
		"sha256:" + ok[7:70] + "g": false,
		"sha512:" + ok[7:]:         false,
		"sha256:" + ok[7:70] + "/": false,
	} {
		if got := ValidDigest(d); got != want {
			t.Errorf("ValidDigest(%q) = %v, want %v", d, got, want)
		}
	}
	if p := ParsePath(BlobPath(ok)); p.Kind != KindBlob || p.Digest != ok {
		t.Errorf("ParsePath(blob) = %+v", p)
	}
	if p := ParsePath(RegistryRoot + "blobs/sha256/01/" + strings.ToUpper(ok[7:]) + "/data"); p.Kind != KindUnknown {
		t.Errorf("upper-case blob path parsed as %v", p.Kind)
	}
}
