#!/usr/bin/env bash
# integration/fuzz.sh — run every fuzz target for a while: `make fuzz`
# (FUZZTIME each, part of make test) and `make fuzz-long` (FUZZTIME=1h each,
# not part of make test).
#
# The targets: the archive reader, the sidecar decoder, the registry config
# reader and the reader of GitLab's backups. Each runs on its own, one after
# the other (go test -fuzz takes one target at a time). With
# FUZZ_KEEP_CORPUS=1 (make fuzz-long sets it) the inputs the fuzzer found
# interesting are copied from Go's fuzz cache into the package's
# testdata/fuzz/<Target>, where every later `go test` replays them as seeds;
# make fuzz-long minimizes them for up to a minute each (FUZZMINIMIZE=60s);
# commit the ones worth keeping. A failing input is written there by go test
# itself. Prints, per target, the executions and the corpus size.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-20s}"
# Go minimizes every new interesting input for up to a minute by default,
# which a short run spends on its first finds (an archive seed is a few KiB
# and every step reads it whole): a short run minimizes briefly.
FUZZMINIMIZE="${FUZZMINIMIZE:-2s}"
targets=(
	"./archive/ FuzzReader"
	"./store/ FuzzSidecar"
	"./drivers/regconfig/ FuzzParse"
	"./gitlabbackup/ FuzzOpen"
)
cd "$repo"
cache="$($GO env GOCACHE)/fuzz/github.com/regbackup/regbackup"
summary=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	log="$(mktemp)"
	echo "fuzz: $name in $pkg for $FUZZTIME"
	if ! $GO test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZE" "$pkg" 2>&1 | tee "$log"; then
		echo "fuzz: $name FAILED: the input is in ${pkg#./}testdata/fuzz/$name (go test replays it)" >&2
		rm -f "$log"
		exit 1
	fi
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)"
	rm -f "$log"
	src="$cache/${pkg#./}"
	src="${src%/}/$name"
	kept=""
	if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] && [ -d "$src" ]; then
		dst="${pkg#./}testdata/fuzz/$name"
		mkdir -p "$dst"
		cp -n "$src"/* "$dst"/ 2>/dev/null || true
		kept="$(find "$dst" -type f | wc -l)"
	fi
	summary+=("$name: ${execs:-0} executions, nothing found${kept:+, $kept inputs in testdata}")
done
printf 'fuzz: %s\n' "${summary[@]}"
