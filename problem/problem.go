// Package problem is what the core found wrong or worth knowing while it
// worked: a Problem has a Severity (Damage or Notice), the storage or
// archive path and digest concerned, and a message for people. A List
// collects them from concurrent goroutines and forwards each to the
// caller's callback as it is found.
//
// It is not for errors that stop a command (those are returned, wrapping a
// sentinel), and it does not print: cmd/regbackup decides how problems are
// shown and which exit code they give.
package problem

import (
	"fmt"
	"sync"
)

// Severity says whether a Problem means data is damaged or is merely worth
// knowing.
type Severity int

const (
	// Notice: normal in a live registry (a tag history entry whose manifest
	// was deleted and garbage-collected, an unexpected stray file).
	Notice Severity = iota
	// Damage: something a registry would fail to serve, or an image the
	// archive cannot restore whole.
	Damage
)

func (s Severity) String() string {
	if s == Damage {
		return "damage"
	}
	return "notice"
}

// MarshalText writes the severity as its name in JSON ("damage", "notice").
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "damage":
		*s = Damage
	case "notice":
		*s = Notice
	default:
		return fmt.Errorf("unknown severity %q", b)
	}
	return nil
}

// Problem is one thing found wrong with the source or the archive.
type Problem struct {
	Severity Severity `json:"severity"`
	Path     string   `json:"path,omitempty"`   // storage or entry path
	Digest   string   `json:"digest,omitempty"` // blob concerned
	Message  string   `json:"message"`
}

func (p Problem) String() string {
	switch {
	case p.Path != "":
		return fmt.Sprintf("%s: %s: %s", p.Severity, p.Path, p.Message)
	case p.Digest != "":
		return fmt.Sprintf("%s: %s: %s", p.Severity, p.Digest, p.Message)
	}
	return fmt.Sprintf("%s: %s", p.Severity, p.Message)
}

// List collects Problems from concurrent goroutines and forwards each to
// the caller's callback as it is found. A nil callback forwards nothing.
type List struct {
	mu       sync.Mutex
	list     []Problem
	callback func(Problem)
}

// NewList is an empty List that forwards each problem to callback.
func NewList(callback func(Problem)) *List {
	return &List{callback: callback}
}

// Add records a problem (the message is format and args, as for
// fmt.Sprintf) and tells the callback, under the List's lock.
func (ps *List) Add(sev Severity, path, digest, format string, args ...any) {
	p := Problem{Severity: sev, Path: path, Digest: digest, Message: fmt.Sprintf(format, args...)}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.list = append(ps.list, p)
	if ps.callback != nil {
		ps.callback(p)
	}
}

// All returns the problems recorded so far, in the order found (nil when
// none). The slice is the List's own: do not change it.
func (ps *List) All() []Problem {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.list
}

// Damaged counts the problems of Damage severity recorded so far.
func (ps *List) Damaged() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, p := range ps.list {
		if p.Severity == Damage {
			n++
		}
	}
	return n
}
