package azure

// PeakBufferBytes is the most buffer memory d's Puts held at once.
func PeakBufferBytes(d *Driver) int64 {
	return d.mem.Peak()
}

// SetListPageSize makes every list request of d ask for at most n names.
func SetListPageSize(d *Driver, n int32) { d.pageSize = n }
