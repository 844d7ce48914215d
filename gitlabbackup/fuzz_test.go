package gitlabbackup

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/regbackup/regbackup/archive"
)

// FuzzOpen feeds arbitrary bytes to the reader of GitLab's backups, as
// a file or stdin would: it must never panic or hang, and every entry it
// hands on is a blob or a link file at a path inside the registry's
// layout (restore writes entries at their names).
func FuzzOpen(f *testing.F) {
	entries, _, _, _ := sample(f)
	reg := makeTar(f, entries...)
	f.Add(reg)
	f.Add(gz(f, reg))
	f.Add(zst(f, reg))
	f.Add(outerTar(f, true, gz(f, reg)))
	f.Add(outerTar(f, false, reg))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), Options{})
		if err != nil {
			return
		}
		defer r.Close()
		for range 10000 {
			e, err := r.Next()
			if err != nil {
				return
			}
			if e.Path.Kind != archive.KindBlob && !e.Path.Kind.IsLink() {
				t.Fatalf("entry %q of kind %v handed on", e.Name, e.Path.Kind)
			}
			if strings.Contains(e.Name, "..") || strings.HasPrefix(e.Name, "/") || !strings.HasPrefix(e.Name, "docker/registry/v2/") {
				t.Fatalf("entry name %q is outside the registry's layout", e.Name)
			}
			io.Copy(io.Discard, e.Body)
		}
	})
}
