package backup

import "sync/atomic"

// Progress lets a caller follow long work without the core printing. All
// fields are optional; counters are updated atomically and may be read
// from another goroutine at any time.
type Progress struct {
	// Phase is called when a phase starts ("snapshot", "blobs", "links",
	// "files", "clean"), with a short detail for people.
	Phase func(name, detail string)
	// Problem is called for each problem as it is found.
	Problem func(Problem)

	BlobsTotal atomic.Int64 // blobs planned for the current phase
	BytesTotal atomic.Int64
	Blobs      atomic.Int64 // blobs done so far
	Bytes      atomic.Int64 // blob bytes done so far
}

func (p *Progress) phase(name, detail string) {
	if p != nil && p.Phase != nil {
		p.Phase(name, detail)
	}
}

func (p *Progress) problem() func(Problem) {
	if p == nil {
		return nil
	}
	return p.Problem
}

func (p *Progress) plan(blobs int, bytes int64) {
	if p != nil {
		p.Blobs.Store(0)
		p.Bytes.Store(0)
		p.BlobsTotal.Store(int64(blobs))
		p.BytesTotal.Store(bytes)
	}
}

func (p *Progress) add(blobs int, bytes int64) {
	if p != nil {
		p.Blobs.Add(int64(blobs))
		p.Bytes.Add(bytes)
	}
}
