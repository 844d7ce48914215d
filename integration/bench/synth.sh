#!/usr/bin/env bash
# integration/bench/synth.sh — `make bench`, a million tags: every command's
# peak memory and time on made-up registries and archives of
# BENCH_SYNTH_TAGS tags (default 1,000,000), each its own image, against
# issue 15's goal of 512 MiB (256 MiB up to 100,000 tags).
#
# A tree of a million tags would take some fifteen million inodes, so the
# registry is regtest.Synth (served as it is read, its blob table outside
# the Go heap) and each command runs in its package's benchmark, with the
# Go heap's soft limit set as the regbackup binary sets it
# (internal/memlimit). "mapped" is the memory Go had mapped at the peak,
# about the RSS the binary would have; "live" the live heap.
#
#   backup                     BenchmarkBackupSynthetic (to io.Discard, then its sidecar)
#   unchanged incremental      the same with REGBACKUP_BENCH_INCREMENTAL=1 (parent's sidecar from a file)
#   ..., as from an object store  the same with REGBACKUP_BENCH_REMOTE=1: blobs listed, the parent's
#                              manifests taken from its sidecar (regtest.RemoteSynth)
#   check                      BenchmarkCheckSynthetic
#   copy                       BenchmarkCopySynthetic (into storage that keeps nothing)
#   verify, restore            BenchmarkReadSynthetic (an archive written once, restored into storage that keeps nothing)
#   list                       BenchmarkListSynthetic
#   prune --dry-run            BenchmarkPruneSynthetic (four nightly sidecars)
#
# It prints a Markdown table, appended to .tools/bench/last.md too. A
# benchmark, not a test: it exits 0 when a goal is missed and non-zero only
# when a benchmark fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
tags="${BENCH_SYNTH_TAGS:-1000000}"
[[ "$tags" =~ ^[1-9][0-9]*$ ]] || { echo "bench synth: BENCH_SYNTH_TAGS must be a positive integer, got '$tags'" >&2; exit 1; }
goal=512
((tags <= 100000)) && goal=256
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

rows=()
# run NAME PACKAGE BENCH [VAR=VALUE...]: one benchmark, its sub-benchmarks a row each.
run() {
	local name=$1 pkg=$2 bench=$3
	shift 3
	printf 'bench synth: %s at %s tags...\n' "$name" "$tags" >&2
	env "$@" REGBACKUP_BENCH_TAGS="$tags" go test "$pkg" -run '^$' -bench "$bench" -benchtime 1x -timeout 90m >"$out" 2>&1 ||
		{ cat "$out" >&2; echo "bench synth: $name failed" >&2; exit 1; }
	while read -r bname _ ns _ rest; do
		local sub live mapped verdict
		sub="${bname#Benchmark*Synthetic}"
		sub="${sub%-[0-9]*}"
		sub="${sub#/}"
		live="$(grep -o '[0-9.]* live-MiB' <<<"$rest" | cut -d' ' -f1)"
		mapped="$(grep -o '[0-9.]* mapped-MiB' <<<"$rest" | cut -d' ' -f1)"
		verdict=PASS
		awk -v m="$mapped" -v g="$goal" 'BEGIN { exit !(m >= g) }' && verdict=FAIL
		case "$name/$sub" in
		list/text) sub=list ;;
		list/json) sub="list --json" ;;
		*/restore-clean) sub="restore --clean" ;;
		*/restore-repository) sub="restore --repository (every one)" ;;
		esac
		rows+=("| ${sub:-$name} | $(awk -v n="$ns" 'BEGIN { printf "%.1f", n / 1e9 }') | $live | $mapped | $verdict |")
	done < <(grep -E '^Benchmark.*mapped-MiB' "$out")
}

run backup ./backup BackupSynthetic
run "unchanged incremental" ./backup BackupSynthetic REGBACKUP_BENCH_INCREMENTAL=1
run "backup, as from an object store" ./backup BackupSynthetic REGBACKUP_BENCH_REMOTE=1
run "unchanged incremental, as from an object store" ./backup BackupSynthetic REGBACKUP_BENCH_REMOTE=1 REGBACKUP_BENCH_INCREMENTAL=1
run check ./check CheckSynthetic
run copy ./regcopy CopySynthetic
run read ./restore ReadSynthetic
run list ./cmd/regbackup ListSynthetic
run "prune --dry-run" ./store PruneSynthetic

{
	printf '\n### %s tags, made up (commit %s, %s)\n\n' "$tags" "$(git rev-parse --short HEAD)" "$(date -u +%Y-%m-%dT%H:%MZ)"
	printf '| command | wall s | live MiB | mapped MiB (≈ RSS) | goal: under %s MiB |\n|---|---:|---:|---:|---|\n' "$goal"
	printf '%s\n' "${rows[@]}"
} | tee -a "$repo/.tools/bench/last.md"
