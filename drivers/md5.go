package drivers

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
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

// ETagMD5 returns the hex MD5 an ETag stands for when it has the shape of
// one (32 hex digits, quoted or not), else "". A multipart or large
// object's ETag is not; an S3 SSE-KMS or SSE-C object's has the shape but
// is not its MD5, which is why FileInfo.MD5 proves only when it matches.
func ETagMD5(etag string) string {
	s := strings.Trim(etag, `"`)
	if len(s) != 32 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return ""
		}
	}
	return strings.ToLower(s)
}
