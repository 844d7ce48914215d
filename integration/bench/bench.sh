#!/usr/bin/env bash
# integration/bench/bench.sh — `make bench`: time regbackup against tar pipelines.
#
# Builds regbackup and mksample into .tools/bench/, generates (once) a sample
# registry tree of mostly incompressible layers shared between repositories
# plus thousands of small files, then measures wall time (median of
# BENCH_RUNS) and peak RSS with GNU time for:
#
#   regbackup backup (zstd, the default)   regbackup backup --compression gzip
#   tar -cf - . | gzip -c -1 > X           tar -cf - . | zstd -1 -T0 > X
#   tar -cf X .                            regbackup restore (of the zstd archive)
#   zstd -d < X | tar -x -C EMPTY          regbackup verify
#
# Every command first runs once as an untimed warm-up. Nothing drops the page
# cache (that needs root): the source tree is warm in the cache for every tool
# alike, so these numbers are CPU and write-path bound, not read-from-disk.
#
# It prints a Markdown table and the issue's targets marked PASS/FAIL, and
# appends the same to .tools/bench/last.md. It is a benchmark, not a test:
# it exits 0 when a target is missed and non-zero only when a command fails.
#
# Environment:
#   BENCH_DIR          work folder (default /tmp/regbackup-bench); the
#                      generated tree is kept there and reused on reruns
#   BENCH_SIZE         distinct layer bytes for mksample -size (default 1GiB;
#                      e.g. 256MiB for a quick run)
#   BENCH_SMALL_FILES  mksample -small-files (default 1000, ~8 files each)
#   BENCH_RUNS         timed runs per command, median taken (default 3)
#   BENCH_CONCURRENCY  regbackup backup --concurrency (default: its own default)
#   BENCH_KEEP         1 (default) keeps the generated tree for the next run;
#                      0 deletes it at the end
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="$repo/.tools/bench"

BENCH_DIR="${BENCH_DIR:-/tmp/regbackup-bench}"
BENCH_SIZE="${BENCH_SIZE:-1GiB}"
BENCH_SMALL_FILES="${BENCH_SMALL_FILES:-1000}"
BENCH_RUNS="${BENCH_RUNS:-3}"
BENCH_CONCURRENCY="${BENCH_CONCURRENCY:-}"
BENCH_KEEP="${BENCH_KEEP:-1}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$BENCH_RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$BENCH_RUNS'"
[[ "$BENCH_SMALL_FILES" =~ ^[0-9]+$ ]] || die "BENCH_SMALL_FILES must be a number, got '$BENCH_SMALL_FILES'"
[[ "$BENCH_SIZE" =~ ^[0-9.]+[A-Za-z]*$ ]] || die "BENCH_SIZE looks wrong: '$BENCH_SIZE' (want e.g. 1GiB, 256MiB)"

# ---- prerequisites ----------------------------------------------------------
# GNU time (Debian package `time`) and zstd; installed with apt-get like
# integration/setup.sh does when missing.
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v zstd >/dev/null || missing+=(zstd)
if ((${#missing[@]})); then
	command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "missing packages (${missing[*]}): run as root or install sudo"
		sudo=(sudo)
	fi
	say "apt-get install -y ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
/usr/bin/time -f '%e %M' true 2>/dev/null || die "/usr/bin/time is not GNU time (need -f '%e %M')"
for c in go tar gzip awk sort find; do command -v "$c" >/dev/null || die "$c is not in PATH"; done

# ---- build ------------------------------------------------------------------
mkdir -p "$tools"
say "building regbackup and mksample into ${tools#"$repo"/}"
(cd "$repo" && go build -o "$tools/" ./cmd/regbackup ./integration/cmd/mksample)
rb="$tools/regbackup"
mksample="$tools/mksample"

# ---- sample tree ------------------------------------------------------------
mkdir -p "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
root="$BENCH_DIR/registry-$BENCH_SIZE-sf$BENCH_SMALL_FILES"
marker="$root.done" # beside the tree, so no tool sees it
if [ -f "$marker" ] && [ -d "$root/docker" ]; then
	say "reusing $root ($(cat "$marker"))"
else
	rm -rf -- "$root" "$marker"
	say "generating $root (-size $BENCH_SIZE -small-files $BENCH_SMALL_FILES)"
	"$mksample" -size "$BENCH_SIZE" -small-files "$BENCH_SMALL_FILES" "$root" >"$root.log"
	cat "$root.log" >&2
	sed 's/^mksample: //' "$root.log" >"$marker"
	rm -f "$root.log"
fi
read -r tree_bytes tree_files < <(find "$root" -type f -printf '%s\n' | awk '{s+=$1; n++} END {printf "%d %d\n", s, n}')
((tree_bytes > 0)) || die "$root holds no files"

out="$BENCH_DIR/out"  # archives, removed after each measurement
empty="$BENCH_DIR/restore"
rm -rf -- "$out" "$empty"
mkdir -p "$out"
cleanup() {
	rm -rf -- "$out" "$empty"
	if [ "$BENCH_KEEP" = 0 ]; then rm -rf -- "$root" "$marker"; fi
}
trap cleanup EXIT

# ---- measuring --------------------------------------------------------------
# measure NAME OUTFILE PREP CMD...
#   Runs PREP (untimed, e.g. empty the restore folder; "" for none) and CMD
#   once as a warm-up, then BENCH_RUNS times under GNU time. Records the
#   median wall time, the highest peak RSS seen and OUTFILE's size (if
#   OUTFILE is not "-"). OUTFILE is deleted after every run unless it is
#   the archive kept for the restore measurements (KEEP=OUTFILE).
declare -A wall rss size
names=()
tfile="$BENCH_DIR/time.out"

run_once() { # prep outfile cmd... -> sets run_wall (s) and run_rss (KiB)
	local prep="$1" outfile="$2"
	shift 2
	[ -z "$prep" ] || eval "$prep"
	[ "$outfile" = - ] || rm -f -- "$outfile"
	if ! /usr/bin/time -o "$tfile" -f '%e %M' "$@"; then
		cat "$tfile" >&2 || true
		die "command failed: $*"
	fi
	read -r run_wall run_rss < <(tail -n 1 "$tfile")
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

measure() {
	local name="$1" outfile="$2" prep="$3"
	shift 3
	local walls=() maxrss=0 w r i
	say "$name: warm-up"
	run_once "$prep" "$outfile" "$@"
	for ((i = 1; i <= BENCH_RUNS; i++)); do
		run_once "$prep" "$outfile" "$@"
		w="$run_wall" r="$run_rss"
		say "$name: run $i: ${w}s, peak RSS $((r / 1024)) MiB"
		walls+=("$w")
		((r > maxrss)) && maxrss=$r
	done
	names+=("$name")
	wall[$name]="$(printf '%s\n' "${walls[@]}" | median)"
	rss[$name]="$maxrss"
	if [ "$outfile" != - ]; then
		size[$name]="$(stat -c %s -- "$outfile")"
		[ "$outfile" = "${KEEP:-}" ] || rm -f -- "$outfile"
	else
		size[$name]=""
	fi
}

conc=()
[ -z "$BENCH_CONCURRENCY" ] || conc=(--concurrency "$BENCH_CONCURRENCY")

RB_ZSTD="regbackup backup (zstd)"
RB_GZIP="regbackup backup --compression gzip"
TAR_GZIP="tar | gzip -1"
TAR_ZSTD="tar | zstd -1 -T0"
TAR="tar -cf (no compression)"
RB_RESTORE="regbackup restore"
TAR_RESTORE="zstd -d | tar -x"
RB_VERIFY="regbackup verify"

say "tree: $root, $tree_files files, $tree_bytes bytes; $BENCH_RUNS timed runs each after a warm-up; $(nproc) CPUs"

archive="$out/rb.tar.zst"
KEEP="$archive" measure "$RB_ZSTD" "$archive" "" \
	"$rb" backup -q "${conc[@]}" --from "$root" -o "$archive" --force
measure "$RB_GZIP" "$out/rb.tar.gz" "" \
	"$rb" backup -q "${conc[@]}" --compression gzip --from "$root" -o "$out/rb.tar.gz" --force
measure "$TAR_GZIP" "$out/tar.tar.gz" "" \
	bash -c 'set -o pipefail; tar -C "$1" -cf - . | gzip -c -1 >"$2"' _ "$root" "$out/tar.tar.gz"
measure "$TAR_ZSTD" "$out/tar.tar.zst" "" \
	bash -c 'set -o pipefail; tar -C "$1" -cf - . | zstd -q -1 -T0 >"$2"' _ "$root" "$out/tar.tar.zst"
measure "$TAR" "$out/tar.tar" "" \
	tar -C "$root" -cf "$out/tar.tar" .
prep_empty='rm -rf -- "$empty" && mkdir -p -- "$empty"'
measure "$RB_RESTORE" - "$prep_empty" \
	"$rb" restore -q "$archive" --to "$empty"
restored_bytes="$(find "$empty" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%d\n", s}')"
measure "$TAR_RESTORE" - "$prep_empty" \
	bash -c 'set -o pipefail; zstd -q -d <"$1" | tar -x -C "$2"' _ "$archive" "$empty"
rm -rf -- "$empty"
measure "$RB_VERIFY" - "" \
	"$rb" verify -q "$archive"
rm -f -- "$archive"

# ---- report -----------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "inf"}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }

t_rb="${wall[$RB_ZSTD]}"
t_gzip="${wall[$TAR_GZIP]}"
t_zstd="${wall[$TAR_ZSTD]}"
t_tar="${wall[$TAR]}"
sp_gzip="$(ratio "$t_gzip" "$t_rb")"   # >= 8 wanted
sp_zstd="$(ratio "$t_zstd" "$t_rb")"   # >= 1 wanted
sl_tar="$(ratio "$t_rb" "$t_tar")"     # <= 2 wanted
rss_limit_kib=$((150 * 1024))

report="$BENCH_DIR/report.md"
{
	echo "### regbackup benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
		"$(go version | awk '{print $3}'), regbackup at $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo "Tree: mksample -size $BENCH_SIZE -small-files $BENCH_SMALL_FILES: $tree_files files," \
		"$(mib "$tree_bytes") MiB (MiB/s below is this size over wall time)."
	echo "Wall time is the median of $BENCH_RUNS run(s), each command after one untimed warm-up;" \
		"the page cache is warm for every tool alike (nothing is dropped)."
	echo "Peak RSS is GNU time's max RSS; for the shell pipelines that is the largest single" \
		"process of the pipeline, not their sum."
	echo
	echo "| tool | wall s (median) | MiB/s | peak RSS MiB | output MiB |"
	echo "|---|---:|---:|---:|---:|"
	for n in "${names[@]}"; do
		o="—"
		[ -z "${size[$n]}" ] || o="$(mib "${size[$n]}")"
		printf '| %s | %s | %s | %s | %s |\n' "${n//|/\\|}" "${wall[$n]}" \
			"$(awk -v b="$tree_bytes" -v t="${wall[$n]}" 'BEGIN {if (t > 0) printf "%.0f", b/1048576/t; else print "inf"}')" \
			"$(awk -v k="${rss[$n]}" 'BEGIN {printf "%.1f", k/1024}')" "$o"
	done
	echo
	echo "Restore: the regbackup zstd archive is the input of both restore rows;" \
		"regbackup restore wrote $(mib "$restored_bytes") MiB (only referenced blobs; garbage and uploads are not backed up)."
	echo
	echo "| ratio (regbackup backup, zstd default) | value |"
	echo "|---|---:|"
	echo "| speedup vs tar \\| gzip -1 (t_gzip / t_regbackup) | ${sp_gzip}x |"
	echo "| speedup vs tar \\| zstd -1 -T0 (t_zstd / t_regbackup) | ${sp_zstd}x |"
	echo "| time vs plain tar -cf (t_regbackup / t_tar) | ${sl_tar}x |"
	echo "| regbackup --compression gzip vs tar \\| gzip -1 (speedup) | $(ratio "$t_gzip" "${wall[$RB_GZIP]}")x |"
	echo
	echo "| target (from the issue) | measured | result |"
	echo "|---|---:|---|"
	echo "| backup at least 8x faster than tar \\| gzip -1 | ${sp_gzip}x | $(verdict le 8 "$sp_gzip") |"
	echo "| backup no slower than tar \\| zstd -1 -T0 | ${t_rb}s vs ${t_zstd}s | $(verdict le "$t_rb" "$t_zstd") |"
	echo "| backup at most 2x plain tar | ${sl_tar}x | $(verdict le "$sl_tar" 2) |"
	for n in "$RB_ZSTD" "$RB_GZIP" "$RB_RESTORE" "$RB_VERIFY"; do
		echo "| peak RSS under 150 MiB: $n | $(awk -v k="${rss[$n]}" 'BEGIN {printf "%.1f MiB", k/1024}') | $(verdict test "${rss[$n]}" -lt "$rss_limit_kib") |"
	done
	echo
} >"$report"

cat "$report"
cat "$report" >>"$tools/last.md"
rm -f -- "$report" "$tfile"
say "appended to ${tools#"$repo"/}/last.md"
