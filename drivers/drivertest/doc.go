// Package drivertest is the conformance suite for drivers.Driver: every
// backend runs it from its own tests in a few lines,
//
//	func TestDriver(t *testing.T) {
//		drivertest.Run(t, func(t *testing.T) drivers.Driver {
//			d, err := filesystem.New(t.TempDir(), filesystem.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return d
//		})
//	}
//
// and so every backend is checked the same way: round trips from 0 B to above
// any multipart threshold, replacing, an MD5 reported by Stat and Walk only
// when it is the content's, ErrNotFound, lexical nested Walk,
// all-or-nothing Put under short, long and failing readers and cancellation,
// concurrency, Delete, teardown and path validation.
//
// The factory must return a fresh, empty driver for each call; it may use
// t.Cleanup to tear it down and t.Skip when its backend is unavailable.
// Subtests do not run in parallel.
package drivertest
