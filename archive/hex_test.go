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

func TestIsHex64EveryByte(t *testing.T) {
	for c := range 256 {
		want := c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
		for _, at := range []int{0, 31, 63} {
			b := []byte(strings.Repeat("a", 64))
			b[at] = byte(c)
			if got := isHex64(string(b)); got != want {
				t.Errorf("isHex64 with %q at %d = %v, want %v", rune(c), at, got, want)
			}
		}
	}
}
