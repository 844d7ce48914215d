package archive

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
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
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i), n, seed+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		fill(t, e.Elem(), n, seed)
		v.Set(e)
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
		got, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		sameAsMarshal(t, "sidecar", got, &m)
	}
	var zero Meta
	got, err := zero.Marshal()
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

// benchCatalog is about the bench tree's incremental catalog: 130
// repositories, 1,000 tags, 1,000 manifests, 3,300 blobs in a parent.
func benchCatalog() *Catalog {
	dg := func(i int) string { return "sha256:" + strings.Repeat(strconv.Itoa(i%10), 64) }
	c := &Catalog{Format: FormatIncremental, Source: "/var/lib/registry", Created: time.Unix(1700000000, 0),
		Parents: []Parent{{Name: "base.tar.zst", CatalogSHA256: strings.Repeat("a", 64), Created: time.Unix(1690000000, 0)}}}
	for r := range 130 {
		repo := Repository{Name: "group/repo-" + strconv.Itoa(r)}
		for i := range 8 {
			repo.Layers = append(repo.Layers, dg(r+i))
			repo.Manifests = append(repo.Manifests, dg(r+i+1))
			repo.Tags = append(repo.Tags, Tag{Name: "v" + strconv.Itoa(i), Current: dg(i), Index: []string{dg(i)}})
		}
		c.Repositories = append(c.Repositories, repo)
	}
	for i := range 1000 {
		c.Manifests = append(c.Manifests, Manifest{Digest: dg(i), MediaType: "application/vnd.oci.image.manifest.v1+json",
			Size: 3000, References: []string{dg(i + 1), dg(i + 2), dg(i + 3)}})
	}
	for i := range 3300 {
		c.Blobs = append(c.Blobs, Blob{Digest: dg(i), Size: 123456, Archive: "base.tar.zst"})
	}
	return c
}

func BenchmarkAppendCatalog(b *testing.B) {
	c := benchCatalog()
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			if _, err := appendCatalog(nil, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("MarshalIndent", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.MarshalIndent(c, "", " "); err != nil {
				b.Fatal(err)
			}
		}
	})
}
