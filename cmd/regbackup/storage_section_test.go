package main

import "testing"

// TestFormatStorageSection: the section is config.yml YAML, keys sorted,
// two-space indents, strings quoted only where YAML needs it.
func TestFormatStorageSection(t *testing.T) {
	got, err := formatStorageSection(map[string]any{"s3": map[string]any{
		"region": "eu-west-1", "bucket": "new-bucket", "secure": false, "regionendpoint": "http://127.0.0.1:7070",
		"accesskey": "${REGISTRY_STORAGE_S3_ACCESSKEY}", "chunksize": 5242880}})
	if err != nil {
		t.Fatal(err)
	}
	want := `storage:
  s3:
    accesskey: ${REGISTRY_STORAGE_S3_ACCESSKEY}
    bucket: new-bucket
    chunksize: 5242880
    region: eu-west-1
    regionendpoint: http://127.0.0.1:7070
    secure: false
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
