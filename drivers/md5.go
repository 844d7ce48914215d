package drivers

import (
	"crypto/md5"
	"encoding/hex"
)

// MD5Hex returns sum, a raw MD5 as a backend reports it (GCS md5Hash,
// Azure Content-MD5), in the form of FileInfo.MD5: 32 lower-case hex
// digits, or "" when sum is not 16 bytes (not reported).
func MD5Hex(sum []byte) string {
	if len(sum) != md5.Size {
		return ""
	}
	return hex.EncodeToString(sum)
}

// MD5Of returns the hex MD5 of data, to compare with FileInfo.MD5.
func MD5Of(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}
