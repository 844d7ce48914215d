package azure

import "testing"

// SetCopyLimits makes CopyFrom stage blocks of block bytes for blobs above
// whole bytes, for the rest of t.
func SetCopyLimits(t *testing.T, whole, block int64) {
	oldWhole, oldBlock := fromURLLimit, copyBlockSize
	fromURLLimit, copyBlockSize = whole, block
	t.Cleanup(func() { fromURLLimit, copyBlockSize = oldWhole, oldBlock })
}
