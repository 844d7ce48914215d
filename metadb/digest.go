package metadb

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// GitLab's registry stores a digest as bytea: one algorithm byte (0x01
// sha256, 0x02 sha512) then the hash (datastore.Digest); encode(..., 'hex')
// gives "01" + hex.
var digestPrefixes = map[string]struct {
	alg  string
	size int // hex characters of the hash
}{"01": {"sha256", 64}, "02": {"sha512", 128}}

// decodeDigest turns "01<hex>" into "sha256:<hex>".
func decodeDigest(h string) (string, error) {
	if len(h) < 2 {
		return "", fmt.Errorf("digest %q: too short", h)
	}
	p, ok := digestPrefixes[h[:2]]
	if !ok {
		return "", fmt.Errorf("digest %q: unknown algorithm prefix %q", h, h[:2])
	}
	hx := h[2:]
	if len(hx) != p.size {
		return "", fmt.Errorf("digest %q: want %d hex digits for %s", h, p.size, p.alg)
	}
	if _, err := hex.DecodeString(hx); err != nil {
		return "", fmt.Errorf("digest %q: %w", h, err)
	}
	return p.alg + ":" + hx, nil
}

// encodeDigest is decodeDigest's inverse (for queries); unknown algorithms
// give "".
func encodeDigest(d string) string {
	alg, hx, _ := strings.Cut(d, ":")
	for prefix, p := range digestPrefixes {
		if p.alg == alg {
			return prefix + hx
		}
	}
	return ""
}
