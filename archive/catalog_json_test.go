package archive

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fill sets every field of the value v points to, recursively, to
// something that is not its zero value (slices get n elements, strings
// carry characters JSON must escape), so that a field an appender leaves
// out shows in the comparison with json.Marshal.
func fill(t *testing.T, v reflect.Value, n int, seed string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(seed + "-<&>\"\\\u2028\x01é\xff")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(-int64(len(seed)) - 7)
	case reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(len(seed)) + 0o755)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(t, s.Index(i), n, seed+strings.Repeat("+", i))
		}
		v.Set(s)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 24, 2, 0, len(seed), 123456789, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), n, seed+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("fill: add a case for %v (%s)", v.Kind(), seed)
	}
}

// sameAsMarshal checks that got, compacted, is byte for byte json.Marshal(v).
func sameAsMarshal(t *testing.T, what string, got []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, got)
	}
	if !bytes.Equal(compact.Bytes(), want) {
		t.Errorf("%s: differs from json.Marshal (a field added to the type must be added to its appender in catalog_json.go)\n got: %s\nwant: %s",
			what, compact.Bytes(), want)
	}
}

func TestAppendCatalogIsJSONMarshal(t *testing.T) {
	for n := range 3 {
		var c Catalog
		fill(t, reflect.ValueOf(&c).Elem(), n, "c")
		got, err := appendCatalog(nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		sameAsMarshal(t, "catalog", got, &c)
	}
	var zero Catalog // nil slices are null, omitempty fields absent
	got, err := appendCatalog(nil, &zero)
	if err != nil {
		t.Fatal(err)
	}
	sameAsMarshal(t, "zero catalog", got, &zero)
	empty := Catalog{Repositories: []Repository{{Layers: []string{}, Tags: []Tag{{Index: []string{}}}}}, Manifests: []Manifest{}, Blobs: []Blob{}}
	got, err = appendCatalog(nil, &empty)
	if err != nil {
		t.Fatal(err)
	}
	sameAsMarshal(t, "empty catalog", got, &empty)
}

func TestAppendMetaIsJSONMarshal(t *testing.T) {
	for n := range 3 {
		var m Meta
		fill(t, reflect.ValueOf(&m).Elem(), n, "m")
		got, err := appendMeta(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		sameAsMarshal(t, "sidecar", got, &m)
	}
	var zero Meta
	got, err := appendMeta(nil, &zero)
	if err != nil {
		t.Fatal(err)
	}
	sameAsMarshal(t, "zero sidecar", got, &zero)
}

func TestAppendCatalogRefusesAYearJSONCannotHold(t *testing.T) {
	c := Catalog{Created: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := appendCatalog(nil, &c); err == nil {
		t.Fatal("no error for the year 10000")
	}
}

// A catalog has one repository, manifest or blob per line.
func TestAppendCatalogPutsOneElementPerLine(t *testing.T) {
	c := Catalog{Blobs: []Blob{{Digest: "sha256:a", Size: 1}, {Digest: "sha256:b", Size: 2}}}
	got, err := appendCatalog(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte("\n{\"digest\":\"sha256:a\",\"size\":1},\n{\"digest\":\"sha256:b\",\"size\":2}]")) {
		t.Errorf("blobs not one per line:\n%s", got)
	}
}
