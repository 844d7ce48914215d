package s3

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// etagMD5 returns the hex MD5 an ETag stands for when it has the shape of
// one (32 hex digits, quoted or not), else "". A multipart upload's ETag
// ("...-N") is not; an SSE-KMS or SSE-C object's has the shape but is not
// its MD5, which is why drivers.FileInfo.MD5 proves only when it matches.
func etagMD5(etag *string) string {
	s := strings.Trim(aws.ToString(etag), `"`)
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
