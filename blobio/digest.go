package blobio

import (
	"crypto/sha256"
	"encoding/hex"
)

// SHA256Digest is the registry digest of data: "sha256:" and its hex
// SHA-256.
func SHA256Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
