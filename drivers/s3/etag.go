package s3

import (
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/regbackup/regbackup/drivers"
)

// etagMD5 returns the hex MD5 an ETag stands for (drivers.ETagMD5).
func etagMD5(etag *string) string { return drivers.ETagMD5(aws.ToString(etag)) }
