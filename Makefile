# regbackup — the two commands: `make demo` and `make test`.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
# Static binaries (no libc: they run in Alpine and distroless images alike),
# without the build machine's paths.
STATIC   := CGO_ENABLED=0
BUILDFLAGS := -trimpath
# make dist: the platforms released; Windows is not supported.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
FUZZTIME ?= 15s

.PHONY: all build dist image man FORCE demo test setup vet unit integration k8s fuzz fuzz-long bench clean

all: build

build:
	$(STATIC) $(GO) build $(BUILDFLAGS) -ldflags "$(LDFLAGS)" -o bin/regbackup ./cmd/regbackup

# dist: release binaries dist/regbackup-OS-ARCH, stripped (-s -w), and
# dist/SHA256SUMS for `sha256sum -c --ignore-missing`.
DIST_BINS := $(foreach p,$(PLATFORMS),dist/regbackup-$(subst /,-,$(p)))

dist: $(DIST_BINS)
	cd dist && sha256sum $(notdir $(DIST_BINS)) > SHA256SUMS
	@cd dist && ls -l $(notdir $(DIST_BINS)) && cat SHA256SUMS

# One binary; the go command decides what needs rebuilding.
dist/regbackup-%: FORCE
	@mkdir -p dist
	@p='$*'; echo "dist/regbackup-$$p"; \
	$(STATIC) GOOS=$${p%%-*} GOARCH=$${p#*-} $(GO) build $(BUILDFLAGS) -ldflags "-s -w $(LDFLAGS)" -o $@ ./cmd/regbackup

# image: the OCI image, built without a container engine by
# integration/image (a module of its own, with go-containerregistry): the
# static binary as entrypoint and Debian's CA bundle on an empty base.
# dist/regbackup-image-linux-ARCH.tar for `crane push FILE REF`, and the
# index of both in the OCI layout dist/regbackup-image/ for
# `crane push --index dist/regbackup-image REF`.
IMAGE_PLATFORMS ?= linux/amd64 linux/arm64

image: $(foreach p,$(IMAGE_PLATFORMS),dist/regbackup-$(subst /,-,$(p)))
	cd integration/image && $(GO) run . -o ../../dist -version "$(VERSION)" -revision "$(COMMIT)" \
		$(foreach p,$(IMAGE_PLATFORMS),$(p)=../../dist/regbackup-$(subst /,-,$(p)))

FORCE:

# man: docs/man/regbackup.1 from the CLI's own definitions (a unit test
# fails when it is out of date).
man: build
	@mkdir -p docs/man
	bin/regbackup man > docs/man/regbackup.1

# demo: build, make a sample registry tree (no network), back it up, verify,
# list, restore into a fresh folder and compare.
demo: build
	$(GO) build -o bin/mksample ./integration/cmd/mksample
	bash integration/demo.sh

# test: install what the tests need, then run every test. Under CI=true a
# test that cannot find a real component fails instead of skipping.
test: setup vet unit integration k8s fuzz

setup:
	bash integration/setup.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

# UNIT: every package but the end-to-end tests (they need the binary).
UNIT = ./archive/... ./snapshot/... ./backup/... ./restore/... ./regcopy/... ./check/... ./store/... \
	./problem/... ./progress/... ./parallel/... ./blobio/... ./linkwriter/... ./selection/... ./internal/... \
	./gitlabbackup/... ./gitlabinstall/... ./drivers/... ./lock/... ./cmd/...

# The million-tag catalog test takes minutes under -race: it runs without.
unit:
	$(GO) test -race -count=1 $(UNIT)
	$(GO) test -count=1 -run '^TestMillionTag' ./archive/

# metadb's tests run PostgreSQL and GitLab's registry, like the integration tests.
integration: build
	$(GO) test -count=1 -timeout 30m ./integration/... ./metadb/...

# k8s: contrib/kubernetes decoded strictly into the Kubernetes API types,
# in a module of its own (integration/k8s) so the main one does not carry
# them.
k8s:
	cd integration/k8s && $(GO) vet ./... && $(GO) test -count=1 ./...

# fuzz: every fuzz target for FUZZTIME (see integration/fuzz.sh);
# fuzz-long: an hour each, the interesting inputs kept in testdata.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash integration/fuzz.sh

fuzz-long:
	GO=$(GO) FUZZTIME=$(or $(FUZZLONG),1h) FUZZMINIMIZE=60s FUZZ_KEEP_CORPUS=1 bash integration/fuzz.sh

# bench: a benchmark, not a test — compares regbackup with tar|gzip,
# tar|zstd -T0 and plain tar on a generated ~1 GiB registry, then times
# every command on a tree of 100,000 tags (BENCH_TAGS; 0 leaves it out),
# then every command's peak memory on made-up registries and archives of a
# million tags (integration/bench/synth.sh; BENCH_SYNTH_TAGS, 0 leaves it
# out) against the 512 MiB goal.
bench:
	bash integration/bench/bench.sh
	@if [ "$${BENCH_TAGS:-100000}" != 0 ]; then bash integration/bench/tags.sh; fi
	@if [ "$${BENCH_SYNTH_TAGS:-1000000}" != 0 ]; then bash integration/bench/synth.sh; fi
	@if [ "$${BENCH_GITLABDB:-1}" != 0 ]; then bash integration/bench/gitlabdb.sh; fi

clean:
	rm -rf bin dist
