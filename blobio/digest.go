package backup

import (
	"crypto/sha256"
	"encoding/hex"
)

func sha256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
