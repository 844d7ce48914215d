#!/usr/bin/env bash
# integration/bench/tags.sh — `make bench`, the metadata-heavy tree: time and
# peak RSS of every regbackup command on a registry of BENCH_TAGS tags, each
# its own small image (about 6 files a tag: its layer, config and manifest
# blobs, their _layers and revisions links, the tag's index and current
# links), against issue 15's goals: each command under 256 MiB of peak RSS at
# 100,000 tags and under 512 MiB at 1,000,000.
#
# The tree is written directly by mksample -small-files (not pushed through
# a registry), once, and kept in BENCH_DIR for the next run. Then, each
# timed once under GNU time after an untimed sync:
#
#   backup (to a file)         backup --incremental-from (nothing changed)
#   verify                     list
#   check                      restore (into an empty folder)
#   copy (folder to folder)    prune --dry-run (of the two archives)
#
# It prints a Markdown table, appended to .tools/bench/last.md too. A
# benchmark, not a test: it exits 0 when a goal is missed and non-zero only
# when a command fails.
#
# Environment:
#   BENCH_DIR   work folder (default /tmp/regbackup-bench)
#   BENCH_TAGS  tags of the tree (default 100000)
#   BENCH_KEEP  1 (default) keeps the generated tree; 0 deletes it at the end
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="$repo/.tools/bench"

BENCH_DIR="${BENCH_DIR:-/tmp/regbackup-bench}"
BENCH_TAGS="${BENCH_TAGS:-100000}"
BENCH_KEEP="${BENCH_KEEP:-1}"

say() { printf 'bench tags: %s\n' "$*" >&2; }
die() { printf 'bench tags: ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$BENCH_TAGS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_TAGS must be a positive integer, got '$BENCH_TAGS'"
/usr/bin/time -f '%e %M' true 2>/dev/null || die "/usr/bin/time is not GNU time (need -f '%e %M'): apt-get install time"
command -v go >/dev/null || die "go is not in PATH"

# The goal: 256 MiB up to 100,000 tags, 512 MiB up to 1,000,000.
goal_mib=256
((BENCH_TAGS <= 100000)) || goal_mib=512

mkdir -p "$tools" "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
say "building regbackup and mksample into ${tools#"$repo"/}"
(cd "$repo" && go build -o "$tools/" ./cmd/regbackup ./integration/cmd/mksample)
built_at="$(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')" # the report names what was measured, not what HEAD is by then
rb="$tools/regbackup"

# ---- the tree ---------------------------------------------------------------
root="$BENCH_DIR/tags-$BENCH_TAGS"
marker="$root.done" # beside the tree, so no command sees it
if [ -f "$marker" ] && [ -d "$root/docker" ]; then
	say "reusing $root ($(cat "$marker"))"
else
	rm -rf -- "$root" "$marker"
	say "generating $root (mksample -size 1MiB -small-files $BENCH_TAGS)"
	"$tools/mksample" -size 1MiB -small-files "$BENCH_TAGS" "$root" >"$root.log"
	cat "$root.log" >&2
	sed 's/^mksample: //' "$root.log" >"$marker"
	rm -f "$root.log"
fi
files="$(find "$root" -type f | wc -l)"

work="$BENCH_DIR/tags-work"
tfile="$BENCH_DIR/tags-time.out"
cleanup() {
	rm -rf -- "$work" "$tfile"
	if [ "$BENCH_KEEP" = 0 ]; then rm -rf -- "$root" "$marker"; fi
}
trap cleanup EXIT
rm -rf -- "$work"
mkdir -p "$work/archives"

# ---- measuring --------------------------------------------------------------
names=()
declare -A wall rss
# run NAME CMD...: one timed run after an untimed sync.
run() {
	local name="$1" s k
	shift
	sync
	if ! /usr/bin/time -o "$tfile" -f '%e %M' "$@" >/dev/null; then
		cat "$tfile" >&2 || true
		die "command failed: $*"
	fi
	read -r s k < <(tail -n 1 "$tfile")
	names+=("$name")
	wall[$name]="$s" rss[$name]="$k"
	say "$name: ${s}s, peak RSS $((k / 1024)) MiB"
}

full="$work/archives/full.tar.zst"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
run "backup" "$rb" backup -q --from "$root" -o "$full"
run "backup --incremental-from (unchanged)" "$rb" backup -q --from "$root" -o "$work/archives/inc.tar.zst" --incremental-from "$full"
run "verify" "$rb" verify -q "$full"
run "list" "$rb" list "$full"
run "check" "$rb" check -q --from "$root"
run "restore (into an empty folder)" "$rb" restore -q "$full" --to "$work/restored"
rm -rf -- "$work/restored"
run "copy (folder to folder)" "$rb" copy -q --from "$root" --to "$work/copy"
rm -rf -- "$work/copy"
run "prune --dry-run" "$rb" prune "$work/archives" --keep-last 1 --dry-run
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report -----------------------------------------------------------------
report="$BENCH_DIR/tags-report.md"
{
	echo "### regbackup on $BENCH_TAGS tags, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Host: $(nproc) CPUs, $(go version | awk '{print $3}'), regbackup built at $built_at."
	echo "Tree: mksample -size 1MiB -small-files $BENCH_TAGS: $(cat "$marker"); $files files."
	echo "One run each, after an untimed sync, page cache warm. Load average (1/5/15 min) before: $load_before, after: $load_after."
	echo
	echo "| command | wall s | peak RSS MiB | goal: under $goal_mib MiB |"
	echo "|---|---:|---:|---|"
	for n in "${names[@]}"; do
		k="${rss[$n]}"
		v=FAIL
		((k < goal_mib * 1024)) && v=PASS
		printf '| %s | %s | %s | %s |\n' "$n" "${wall[$n]}" "$(awk -v k="$k" 'BEGIN {printf "%.1f", k/1024}')" "$v"
	done
	echo
} >"$report"
cat "$report"
cat "$report" >>"$tools/last.md"
rm -f -- "$report"
