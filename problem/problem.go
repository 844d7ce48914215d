package backup

import (
	"errors"
	"fmt"
	"sync"
)

// ErrDamagedSource is returned (wrapped) by Backup when the source storage
// has damage the archive could not hold: malformed, dangling or repaired
// links, missing or corrupt blobs. The archive written is still complete
// and valid; the report's Problems say what is missing from it.
var ErrDamagedSource = errors.New("source storage is damaged")

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

// problems collects Problems from concurrent goroutines and forwards each
// to the caller's callback as it is found.
type problems struct {
	mu       sync.Mutex
	list     []Problem
	callback func(Problem)
}

func newProblems(callback func(Problem)) *problems {
	return &problems{callback: callback}
}

func (ps *problems) add(sev Severity, path, digest, format string, args ...any) {
	p := Problem{Severity: sev, Path: path, Digest: digest, Message: fmt.Sprintf(format, args...)}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.list = append(ps.list, p)
	if ps.callback != nil {
		ps.callback(p)
	}
}

func (ps *problems) damaged() int {
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
