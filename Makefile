# regbackup — the two commands: `make demo` and `make test`.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 20s

.PHONY: all build demo test setup vet unit integration fuzz bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/regbackup ./cmd/regbackup

# demo: build, make a sample registry tree (no network), back it up, verify,
# list, restore into a fresh folder and compare.
demo: build
	$(GO) build -o bin/mksample ./integration/cmd/mksample
	bash integration/demo.sh

# test: install what the tests need, then run every test. Under CI=true a
# test that cannot find a real component fails instead of skipping.
test: setup vet unit integration fuzz

setup:
	bash integration/setup.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

# UNIT: every package but the end-to-end tests (they need the binary).
UNIT = ./archive/... ./snapshot/... ./backup/... ./restore/... ./regcopy/... ./check/... ./store/... \
	./problem/... ./progress/... ./parallel/... ./blobio/... ./linkwriter/... ./selection/... ./internal/... \
	./gitlabbackup/... ./gitlabinstall/... ./drivers/... ./lock/... ./cmd/...

unit:
	$(GO) test -race -count=1 $(UNIT)

# metadb's tests run PostgreSQL and GitLab's registry, like the integration tests.
integration: build
	$(GO) test -count=1 -timeout 30m ./integration/... ./metadb/...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME) ./archive/

# bench: a benchmark, not a test — compares regbackup with tar|gzip,
# tar|zstd -T0 and plain tar on a generated ~1 GiB registry.
bench:
	bash integration/bench/bench.sh

clean:
	rm -rf bin
