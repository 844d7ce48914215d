// Package progress lets a caller follow long work (a backup, restore,
// verify, copy or check) without the core printing: phase callbacks,
// a problem callback, and atomic counters of blobs and bytes that another
// goroutine may read at any time.
//
// It is not for deciding what to show: cmd/regbackup turns it into a
// progress bar, log lines or nothing.
package progress

import (
	"sync/atomic"

	"github.com/regbackup/regbackup/problem"
)

// Progress lets a caller follow long work without the core printing. All
// fields are optional; counters are updated atomically and may be read
// from another goroutine at any time.
type Progress struct {
	// Phase is called when a phase starts ("snapshot", "blobs", "links",
	// "files", "clean"), with a short detail for people.
	Phase func(name, detail string)
	// Problem is called for each problem as it is found.
	Problem func(problem.Problem)

	BlobsTotal atomic.Int64 // blobs planned for the current phase
	BytesTotal atomic.Int64
	Blobs      atomic.Int64 // blobs done so far
	Bytes      atomic.Int64 // blob bytes done so far
}

// StartPhase tells Phase that a phase starts. It may be called on a nil
// *Progress (nothing is told), as may every method.
func (p *Progress) StartPhase(name, detail string) {
	if p != nil && p.Phase != nil {
		p.Phase(name, detail)
	}
}

// ProblemFunc is the Problem callback, nil for a nil *Progress.
func (p *Progress) ProblemFunc() func(problem.Problem) {
	if p == nil {
		return nil
	}
	return p.Problem
}

// Plan starts the counters of a phase: nothing done yet, blobs and bytes
// planned.
func (p *Progress) Plan(blobs int, bytes int64) {
	if p != nil {
		p.Blobs.Store(0)
		p.Bytes.Store(0)
		p.BlobsTotal.Store(int64(blobs))
		p.BytesTotal.Store(bytes)
	}
}

// Add counts blobs and bytes done.
func (p *Progress) Add(blobs int, bytes int64) {
	if p != nil {
		p.Blobs.Add(int64(blobs))
		p.Bytes.Add(bytes)
	}
}
