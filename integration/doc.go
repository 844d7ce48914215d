// Package integration holds regbackup's end-to-end tests. They run real
// registries (Debian's docker-registry 2.8 and Distribution 3 built from
// integration/tools), push images with crane and drive the regbackup binary.
//
// Install the tools with integration/setup.sh (run by `make test`). Without
// them the tests skip, unless CI=true, where a missing tool fails the test.
package integration
