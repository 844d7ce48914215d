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
#   regbackup backup --incremental-from X (the registry unchanged since X)
#
# plus, for information (no targets): the tar baselines followed by the fsync
# regbackup does and tar does not (sync FILE after a backup, sync -f after a
# restore), and regbackup and tar | zstd writing to /dev/null (no archive
# write at all: CPU and reading only).
#
# Commands run in groups (backups, restores, verify): each command once as an
# untimed warm-up, then BENCH_RUNS rounds going round-robin over the group,
# so a slow spell of a shared machine hits every tool alike. Every run starts
# after an untimed sync. Nothing drops the page cache (that needs root): the
# source tree is warm in the cache for every tool alike, so these numbers are
# CPU and write-path bound, not read-from-disk.
#
# GitLab (BENCH_GITLAB=1, the default): restoring the tree from a GitLab-style
# registry.tar.gz (made once, untimed, as gitlab-backup makes it: tar
# --exclude=lost+found -C ROOT -cf - . | gzip -c -1), by regbackup (every
# blob verified, links last, fsync) and by GitLab's own way, gzip -cd | tar
# --unlink-first --recursive-unlink -x (plus, for information, the same
# followed by sync -f).
#
# Object storage (BENCH_S3=1, the default): the same tree served by a
# versitygw (S3, posix backend) on loopback, started from .tools/bin (built
# by integration/setup.sh) and stopped at the end, beside Debian's rclone
# (configured by RCLONE_CONFIG_VGW_* variables, --transfers and --checkers
# set to regbackup's concurrency) over the same data, both directions:
#
#   regbackup backup --from s3://... (zstd)  rclone copy vgw:bucket DIR
#   regbackup backup --from s3://... -o - >/dev/null (info)
#   regbackup restore ARCHIVE --to s3://...  rclone copy DIR vgw:bucket
#   regbackup copy --from DIR --to s3://...  rclone copy DIR vgw:bucket
#   the same copy again, nothing changed     rclone copy again (info)
#
# The source bucket is a hard-linked copy of the tree in versitygw's folder
# (a folder there is a bucket); every upload goes to a fresh, empty bucket,
# except the no-change re-runs, whose buckets hold a full copy already.
#
# Swift (BENCH_SWIFT=1, the default): a real single-node OpenStack Swift on
# loopback (../shared/tools/swift/start-swift.sh, Debian's packages, v1
# auth), loaded once, untimed, by swiftload with the tree in the layout
# Distribution 2.8's swift driver writes (prefix reg: plain objects for
# links, a Dynamic Large Object of 20 MiB segments for every blob), then
# copied to a fresh, empty versitygw bucket each run by
#
#   regbackup copy --from swift://... --to s3://...   rclone copy sw:src/reg/files vgw:bucket
#
# with rclone's swift remote from RCLONE_CONFIG_SW_* variables and the same
# --transfers/--checkers as regbackup's --concurrency.
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
#   BENCH_S3           1 (default) adds the object-storage rows; 0 leaves
#                      them out; only runs nothing but them
#   BENCH_GITLAB       1 (default) adds the GitLab restore rows; 0 leaves
#                      them out; only runs nothing but them (no S3 rows)
#   BENCH_SWIFT        1 (default) adds the Swift -> S3 copy rows (needs
#                      versitygw, and Debian's swift packages, which
#                      start-swift.sh installs as root); 0 leaves them out;
#                      only runs nothing but them
#   At most one of BENCH_S3, BENCH_GITLAB and BENCH_SWIFT may be only.
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
BENCH_S3="${BENCH_S3:-1}"
BENCH_GITLAB="${BENCH_GITLAB:-1}"
BENCH_SWIFT="${BENCH_SWIFT:-1}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$BENCH_RUNS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer, got '$BENCH_RUNS'"
[[ "$BENCH_SMALL_FILES" =~ ^[0-9]+$ ]] || die "BENCH_SMALL_FILES must be a number, got '$BENCH_SMALL_FILES'"
[[ "$BENCH_SIZE" =~ ^[0-9.]+[A-Za-z]*$ ]] || die "BENCH_SIZE looks wrong: '$BENCH_SIZE' (want e.g. 1GiB, 256MiB)"
[[ "$BENCH_S3" =~ ^(0|1|only)$ ]] || die "BENCH_S3 must be 0, 1 or only, got '$BENCH_S3'"
[[ "$BENCH_GITLAB" =~ ^(0|1|only)$ ]] || die "BENCH_GITLAB must be 0, 1 or only, got '$BENCH_GITLAB'"
[[ "$BENCH_SWIFT" =~ ^(0|1|only)$ ]] || die "BENCH_SWIFT must be 0, 1 or only, got '$BENCH_SWIFT'"
[ "$(printf '%s\n' "$BENCH_S3" "$BENCH_GITLAB" "$BENCH_SWIFT" | grep -c '^only$')" -le 1 ] ||
	die "at most one of BENCH_S3, BENCH_GITLAB and BENCH_SWIFT can be only"
fs_rows=1 gl_rows=1 sw_rows=1
[ "$BENCH_GITLAB" != 0 ] || gl_rows=0
[ "$BENCH_SWIFT" != 0 ] || sw_rows=0
case "$BENCH_S3$BENCH_GITLAB$BENCH_SWIFT" in
*only*) fs_rows=0 ;;
esac
if [ "$BENCH_S3" = only ]; then gl_rows=0 sw_rows=0; fi
if [ "$BENCH_GITLAB" = only ]; then BENCH_S3=0 sw_rows=0; fi
if [ "$BENCH_SWIFT" = only ]; then BENCH_S3=0 gl_rows=0; fi

# ---- prerequisites ----------------------------------------------------------
# GNU time (Debian package `time`) and zstd; installed with apt-get like
# integration/setup.sh does when missing.
missing=()
[ -x /usr/bin/time ] || missing+=(time)
command -v zstd >/dev/null || missing+=(zstd)
[ "$BENCH_S3" = 0 ] && ((!sw_rows)) || command -v rclone >/dev/null || missing+=(rclone)
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
(cd "$repo" && go build -o "$tools/" ./cmd/regbackup ./integration/cmd/mksample ./integration/cmd/swiftload)
rb="$tools/regbackup"
mksample="$tools/mksample"
swiftload="$tools/swiftload"

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
tfile="$BENCH_DIR/time.out" # GNU time's output
rm -rf -- "$out" "$empty"
mkdir -p "$out"
vgw_pid=""
vgw_dir="$BENCH_DIR/vgw"    # versitygw's posix folder: a folder per bucket
rclone_dl="$BENCH_DIR/rclone-dl"
swift_tools="$repo/../shared/tools/swift"
swift_dir="$BENCH_DIR/swift" # start-swift.sh's DIR: configs, logs, object data
swift_started=0
cleanup() {
	if [ -n "$vgw_pid" ]; then
		kill "$vgw_pid" 2>/dev/null || true
		wait "$vgw_pid" 2>/dev/null || true
	fi
	if ((swift_started)); then
		bash "$swift_tools/stop-swift.sh" "$swift_dir" >/dev/null 2>&1 || say "stop-swift.sh $swift_dir failed: stop its pids (in $swift_dir/pids) by hand"
	fi
	rm -rf -- "$out" "$empty" "$tfile" "$vgw_dir" "$rclone_dl" "$BENCH_DIR/vgw.log" "$swift_dir"
	if [ "$BENCH_KEEP" = 0 ]; then rm -rf -- "$root" "$marker"; fi
}
trap cleanup EXIT

# ---- measuring --------------------------------------------------------------
# add NAME OUTFILE PREP POST CMD...
#   Declares a measurement. PREP and POST are shell snippets run untimed
#   before and after every run ("" for none). OUTFILE ("-" for none) is
#   deleted before every run; its size is recorded from the last run.
# run_group NAME...
#   Runs every command of the group once as an untimed warm-up, then
#   BENCH_RUNS rounds, each timing every command once under GNU time
#   (round-robin, so a slow spell of the machine hits every tool alike, not
#   all runs of one). Records the median wall time, the highest peak RSS and
#   the output size, then deletes the outputs except KEEP.
declare -A wall rss size outf prepv postv cmdv walls
names=()
KEEP=""

add() {
	local name="$1"
	names+=("$name")
	outf[$name]="$2" prepv[$name]="$3" postv[$name]="$4"
	shift 4
	cmdv[$name]="$(printf '%q ' "$@")"
	walls[$name]="" rss[$name]=0 size[$name]=""
}

run_once() { # name -> sets run_wall (s) and run_rss (KiB)
	local name="$1" cmd
	eval "cmd=(${cmdv[$name]})"
	[ -z "${prepv[$name]}" ] || eval "${prepv[$name]}"
	[ "${outf[$name]}" = - ] || rm -f -- "${outf[$name]}"
	sync # untimed: no run pays for an earlier run's dirty pages
	if ! /usr/bin/time -o "$tfile" -f '%e %M' "${cmd[@]}"; then
		cat "$tfile" >&2 || true
		die "command failed: ${cmd[*]}"
	fi
	read -r run_wall run_rss < <(tail -n 1 "$tfile")
	[ -z "${postv[$name]}" ] || eval "${postv[$name]}"
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

run_group() {
	local name i max
	for name in "$@"; do
		say "$name: warm-up"
		run_once "$name"
	done
	for ((i = 1; i <= BENCH_RUNS; i++)); do
		for name in "$@"; do
			run_once "$name"
			say "$name: run $i: ${run_wall}s, peak RSS $((run_rss / 1024)) MiB"
			walls[$name]+="$run_wall "
			max="${rss[$name]}"
			((run_rss <= max)) || rss[$name]=$run_rss
			if [ "${outf[$name]}" != - ]; then
				size[$name]="$(stat -c %s -- "${outf[$name]}")"
				[ "${outf[$name]}" = "$KEEP" ] || rm -f -- "${outf[$name]}"
			fi
		done
	done
	for name in "$@"; do
		wall[$name]="$(printf '%s\n' ${walls[$name]} | median)"
	done
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
# Informational rows, no targets. regbackup fsyncs the archive it writes
# and what it restores; tar does neither: the "sync" rows add the same
# durability to the tar baselines. The /dev/null rows leave out writing the
# archive at all (CPU and reading only).
TAR_ZSTD_SYNC="tar | zstd -1 -T0; sync FILE (info)"
TAR_SYNC="tar -cf; sync FILE (info)"
RB_NULL="regbackup backup -o - >/dev/null (info)"
TAR_ZSTD_NULL="tar | zstd -1 -T0 >/dev/null (info)"
TAR_RESTORE_SYNC="zstd -d | tar -x; sync -f DIR (info)"
RB_INC="regbackup backup --incremental-from (unchanged)"

archive="$out/rb.tar.zst"
restored_bytes=0
KEEP="$archive" # the input of the restore and verify measurements
if ((fs_rows)); then
add "$RB_ZSTD" "$archive" "" "" \
	"$rb" backup -q "${conc[@]}" --from "$root" -o "$archive"
add "$RB_GZIP" "$out/rb.tar.gz" "" "" \
	"$rb" backup -q "${conc[@]}" --compression gzip --from "$root" -o "$out/rb.tar.gz"
add "$TAR_GZIP" "$out/tar.tar.gz" "" "" \
	bash -c 'set -o pipefail; tar -C "$1" -cf - . | gzip -c -1 >"$2"' _ "$root" "$out/tar.tar.gz"
add "$TAR_ZSTD" "$out/tar.tar.zst" "" "" \
	bash -c 'set -o pipefail; tar -C "$1" -cf - . | zstd -q -1 -T0 >"$2"' _ "$root" "$out/tar.tar.zst"
add "$TAR" "$out/tar.tar" "" "" \
	tar -C "$root" -cf "$out/tar.tar" .
add "$TAR_ZSTD_SYNC" "$out/tar.tar.zst" "" "" \
	bash -c 'set -o pipefail; tar -C "$1" -cf - . | zstd -q -1 -T0 >"$2" && sync -- "$2"' _ "$root" "$out/tar.tar.zst"
add "$TAR_SYNC" "$out/tar.tar" "" "" \
	bash -c 'tar -C "$1" -cf "$2" . && sync -- "$2"' _ "$root" "$out/tar.tar"
add "$RB_NULL" - "" "" \
	bash -c 'set -o pipefail; "$1" backup -q "${@:3}" --from "$2" -o - >/dev/null' _ "$rb" "$root" "${conc[@]}"
add "$TAR_ZSTD_NULL" - "" "" \
	bash -c 'set -o pipefail; tar -C "$1" -cf - . | zstd -q -1 -T0 >/dev/null' _ "$root"
prep_empty='rm -rf -- "$empty" && mkdir -p -- "$empty"'
add "$RB_RESTORE" - "$prep_empty" \
	'restored_bytes="$(find "$empty" -type f -printf "%s\n" | awk "{s+=\$1} END {printf \"%d\n\", s}")"' \
	"$rb" restore -q "$archive" --to "$empty"
add "$TAR_RESTORE" - "$prep_empty" "" \
	bash -c 'set -o pipefail; zstd -q -d <"$1" | tar -x -C "$2"' _ "$archive" "$empty"
add "$TAR_RESTORE_SYNC" - "$prep_empty" "" \
	bash -c 'set -o pipefail; zstd -q -d <"$1" | tar -x -C "$2" && sync -f -- "$2"' _ "$archive" "$empty"
add "$RB_VERIFY" - "" "" \
	"$rb" verify -q "$archive"
# The incremental backup's base: a full archive written once, untimed. Each
# timed run writes only the catalog and links (nothing changed since).
chain="$out/chain"
mkdir -p "$chain"
add "$RB_INC" "$chain/inc.tar.zst" "" "" \
	"$rb" backup -q "${conc[@]}" --from "$root" -o "$chain/inc.tar.zst" --incremental-from "$chain/base.tar.zst"
fi

# ---- GitLab's registry.tar.gz ------------------------------------------------
GL_RB="regbackup restore GitLab registry.tar.gz"
GL_TAR="gzip -cd | tar --unlink-first --recursive-unlink -x (GitLab's way)"
GL_TAR_SYNC="gzip -cd | tar -x (GitLab's way); sync -f DIR (info)"
gl_tarball="$out/registry.tar.gz"
if ((gl_rows)); then
	prep_empty='rm -rf -- "$empty" && mkdir -p -- "$empty"'
	add "$GL_RB" - "$prep_empty" "" \
		"$rb" restore -q "$gl_tarball" --to "$empty"
	add "$GL_TAR" - "$prep_empty" "" \
		bash -c 'set -o pipefail; gzip -cd <"$1" | tar --unlink-first --recursive-unlink -C "$2" -xf -' _ "$gl_tarball" "$empty"
	add "$GL_TAR_SYNC" - "$prep_empty" "" \
		bash -c 'set -o pipefail; gzip -cd <"$1" | tar --unlink-first --recursive-unlink -C "$2" -xf - && sync -f -- "$2"' _ "$gl_tarball" "$empty"
fi

# ---- object storage: versitygw on loopback --------------------------------
S3_RB_BACKUP="regbackup backup --from s3:// (versitygw)"
S3_RB_NULL="regbackup backup --from s3:// -o - >/dev/null (info)"
S3_RCLONE_DL="rclone copy s3: -> DIR"
S3_RB_RESTORE="regbackup restore --to s3:// (versitygw)"
S3_RCLONE_UL="rclone copy DIR -> s3:"
S3_RB_COPY="regbackup copy --from DIR --to s3:// (versitygw)"
S3_RB_COPY_AGAIN="regbackup copy --from DIR --to s3://, no change since"
S3_RCLONE_AGAIN="rclone copy DIR -> s3:, no change since (info)"
s3_rows=0
s3_archive="$out/s3.tar.zst"
free_port() { # prints a loopback TCP port nothing listens on
	local p
	for p in $(shuf -i 20000-60000 -n 50); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	die "no free loopback port"
}
if [ "$BENCH_S3" != 0 ] || ((sw_rows)); then
	vgw_bin="$repo/.tools/bin/versitygw"
	[ -x "$vgw_bin" ] || die "$vgw_bin is missing: run bash integration/setup.sh (or BENCH_S3=0 BENCH_SWIFT=0 to leave out the object-storage rows)"
	# The driver's default (16 blobs at once) unless BENCH_CONCURRENCY says.
	s3_conc="${BENCH_CONCURRENCY:-16}"
	s3_key=benchkey s3_secret=bench-secret-0123456789
	port="$(free_port)"
	rm -rf -- "$vgw_dir" && mkdir -p -- "$vgw_dir"
	# The source bucket: the tree itself, hard-linked (instant, no extra space).
	cp -al -- "$root" "$vgw_dir/src"
	ROOT_ACCESS_KEY_ID="$s3_key" ROOT_SECRET_ACCESS_KEY="$s3_secret" \
		"$vgw_bin" --port "127.0.0.1:$port" --region us-east-1 --quiet posix "$vgw_dir" >"$BENCH_DIR/vgw.log" 2>&1 &
	vgw_pid=$!
	for ((i = 0; i < 200; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		kill -0 "$vgw_pid" 2>/dev/null || die "versitygw exited: $(cat "$BENCH_DIR/vgw.log")"
		sleep 0.1
	done
	endpoint="http://127.0.0.1:$port"
	say "versitygw on $endpoint (pid $vgw_pid), data in $vgw_dir"
	s3_opts="endpoint=$endpoint&path-style=true&region=us-east-1"
	s3env=(env "AWS_ACCESS_KEY_ID=$s3_key" "AWS_SECRET_ACCESS_KEY=$s3_secret" AWS_SESSION_TOKEN= AWS_PROFILE=)
	export RCLONE_CONFIG="$BENCH_DIR/rclone-none.conf" # no user config; the remote comes from:
	export RCLONE_CONFIG_VGW_TYPE=s3 RCLONE_CONFIG_VGW_PROVIDER=Other RCLONE_CONFIG_VGW_ENDPOINT="$endpoint" \
		RCLONE_CONFIG_VGW_REGION=us-east-1 RCLONE_CONFIG_VGW_FORCE_PATH_STYLE=true \
		RCLONE_CONFIG_VGW_ACCESS_KEY_ID="$s3_key" RCLONE_CONFIG_VGW_SECRET_ACCESS_KEY="$s3_secret"
	rclone_opts=(-q --transfers "$s3_conc" --checkers "$s3_conc")
	# rclone's S3 client fails on the AWS_CA_BUNDLE this kind of machine sets
	# (LoadCustomCABundleError), as Debian's registry 2.8 does.
	rclone=(env -u AWS_CA_BUNDLE rclone)
	s3conc=(--concurrency "$s3_conc")
fi
if [ "$BENCH_S3" != 0 ]; then
	s3_rows=1
	add "$S3_RB_BACKUP" "$s3_archive" "" "" \
		"${s3env[@]}" "$rb" backup -q "${s3conc[@]}" --from "s3://src?$s3_opts" -o "$s3_archive"
	add "$S3_RB_NULL" - "" "" \
		bash -c 'set -o pipefail; "$@" -o - >/dev/null' _ "${s3env[@]}" "$rb" backup -q "${s3conc[@]}" --from "s3://src?$s3_opts"
	add "$S3_RCLONE_DL" - 'rm -rf -- "$rclone_dl" && mkdir -p -- "$rclone_dl"' 'rm -rf -- "$rclone_dl"' \
		"${rclone[@]}" copy "${rclone_opts[@]}" vgw:src "$rclone_dl"
	prep_bucket='rm -rf -- "$vgw_dir/dst" && mkdir -- "$vgw_dir/dst"'
	add "$S3_RB_RESTORE" - "$prep_bucket" "" \
		"${s3env[@]}" "$rb" restore -q "${s3conc[@]}" "$s3_archive" --to "s3://dst?$s3_opts"
	add "$S3_RCLONE_UL" - "$prep_bucket" "" \
		"${rclone[@]}" copy "${rclone_opts[@]}" "$root" vgw:dst
	# Migration: copy writes the blobs and links straight into the bucket,
	# like the rclone upload above. The re-runs go to buckets that already
	# hold a full copy (made untimed below), as after a migration's first pass.
	add "$S3_RB_COPY" - "$prep_bucket" "" \
		"${s3env[@]}" "$rb" copy -q "${s3conc[@]}" --from "$root" --to "s3://dst?$s3_opts"
	add "$S3_RB_COPY_AGAIN" - "" "" \
		"${s3env[@]}" "$rb" copy -q "${s3conc[@]}" --from "$root" --to "s3://again?$s3_opts"
	add "$S3_RCLONE_AGAIN" - "" "" \
		"${rclone[@]}" copy "${rclone_opts[@]}" "$root" vgw:again-rclone
fi

# ---- Swift: a 2.8 registry's container, copied to versitygw ----------------
SW_RB_COPY="regbackup copy --from swift:// --to s3:// (Swift -> versitygw)"
SW_RCLONE="rclone copy sw: -> s3: (Swift -> versitygw)"
sw_load_s="" sw_rb_bytes=0 sw_rb_files=0 sw_rc_bytes=0 sw_rc_files=0
if ((sw_rows)); then
	[ -f "$swift_tools/start-swift.sh" ] ||
		die "$swift_tools/start-swift.sh is missing (the shared Swift scripts): BENCH_SWIFT=0 leaves out the Swift rows"
	rm -rf -- "$swift_dir"
	swift_port="$(free_port)"
	say "starting Swift on 127.0.0.1:$swift_port in $swift_dir"
	if ! swift_out="$(bash "$swift_tools/start-swift.sh" "$swift_dir" "$swift_port" 2>"$BENCH_DIR/swift-start.log")"; then
		die "Swift did not start (start-swift.sh $swift_dir $swift_port): $(tail -n 15 "$BENCH_DIR/swift-start.log")
  It needs Debian's swift packages (start-swift.sh installs them with apt-get as root, as
  integration/setup.sh does); a port taken in between is worth one more try. BENCH_SWIFT=0 leaves out the Swift rows."
	fi
	swift_started=1
	rm -f -- "$BENCH_DIR/swift-start.log"
	st_auth="$(sed -n 's/^export ST_AUTH=//p' <<<"$swift_out")"
	st_user="$(sed -n 's/^export ST_USER=//p' <<<"$swift_out")"
	st_key="$(sed -n 's/^export ST_KEY=//p' <<<"$swift_out")"
	[ -n "$st_auth" ] && [ -n "$st_user" ] || die "start-swift.sh printed no ST_AUTH/ST_USER: $swift_out"
	# v1 credentials only: an OS_* variable of the caller's would win over them.
	swenv=(env "ST_AUTH=$st_auth" "ST_USER=$st_user" "ST_KEY=$st_key" OS_USERNAME= OS_PASSWORD= OS_AUTH_URL=
		OS_AUTH_TOKEN= OS_STORAGE_URL=)
	say "loading the tree into Swift as a 2.8 registry lays it out (untimed)"
	t0=$(date +%s.%N)
	"${swenv[@]}" "$swiftload" -auth "$st_auth" -container src -prefix reg -concurrency 8 "$root"
	sw_load_s="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
	export RCLONE_CONFIG_SW_TYPE=swift RCLONE_CONFIG_SW_AUTH="$st_auth" RCLONE_CONFIG_SW_USER="$st_user" \
		RCLONE_CONFIG_SW_KEY="$st_key"
	# Both write into one fresh, empty bucket per run; what they wrote is
	# counted after each run.
	prep_swdst='rm -rf -- "$vgw_dir/swdst" && mkdir -- "$vgw_dir/swdst"'
	count_swdst='read -r b f < <(find "$vgw_dir/swdst" -type f -printf "%s\n" | awk "{s+=\$1; n++} END {printf \"%d %d\n\", s, n}")'
	add "$SW_RB_COPY" - "$prep_swdst" "$count_swdst; sw_rb_bytes=\$b sw_rb_files=\$f" \
		"${swenv[@]}" "${s3env[@]:1}" "$rb" copy -q "${s3conc[@]}" --from "swift://src/reg?auth=$st_auth" --to "s3://swdst?$s3_opts"
	add "$SW_RCLONE" - "$prep_swdst" "$count_swdst; sw_rc_bytes=\$b sw_rc_files=\$f" \
		"${rclone[@]}" copy "${rclone_opts[@]}" sw:src/reg/files vgw:swdst
fi

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
say "tree: $root, $tree_files files, $tree_bytes bytes; $(nproc) CPUs;" \
	"per group: one warm-up, then $BENCH_RUNS timed rounds"
if ((fs_rows)); then
	say "writing the base archive of the incremental measurement (untimed)"
	"$rb" backup -q "${conc[@]}" --from "$root" -o "$chain/base.tar.zst"
	run_group "$RB_ZSTD" "$RB_GZIP" "$TAR_GZIP" "$TAR_ZSTD" "$TAR" "$TAR_ZSTD_SYNC" "$TAR_SYNC" "$RB_NULL" "$TAR_ZSTD_NULL" "$RB_INC"
	rm -rf -- "$chain"
	run_group "$RB_RESTORE" "$TAR_RESTORE" "$TAR_RESTORE_SYNC"
	rm -rf -- "$empty"
	run_group "$RB_VERIFY"
	rm -f -- "$archive"
fi
if ((gl_rows)); then
	say "writing $gl_tarball as gitlab-backup does (untimed)"
	bash -c 'set -o pipefail; tar --exclude=lost+found -C "$1" -cf - . | gzip -c -1 >"$2"' _ "$root" "$gl_tarball"
	KEEP="$gl_tarball"
	run_group "$GL_RB" "$GL_TAR" "$GL_TAR_SYNC"
	rm -rf -- "$empty" "$gl_tarball"
fi
if ((s3_rows)); then
	KEEP="$s3_archive" # the input of the S3 restore
	run_group "$S3_RB_BACKUP" "$S3_RCLONE_DL" "$S3_RB_NULL"
	run_group "$S3_RB_RESTORE" "$S3_RCLONE_UL"
	rm -f -- "$s3_archive"
	say "copying the tree into the buckets of the no-change re-runs (untimed)"
	mkdir -p -- "$vgw_dir/again" "$vgw_dir/again-rclone"
	"${s3env[@]}" "$rb" copy -q "${s3conc[@]}" --from "$root" --to "s3://again?$s3_opts"
	"${rclone[@]}" copy "${rclone_opts[@]}" "$root" vgw:again-rclone
	run_group "$S3_RB_COPY" "$S3_RCLONE_UL"
	# The re-runs get a group of their own: right after a 1 GiB upload the
	# kernel is still busy with it (walking the source tree takes 5x longer),
	# which is not what a re-run in a migration's read-only window meets.
	run_group "$S3_RB_COPY_AGAIN" "$S3_RCLONE_AGAIN"
fi
if ((sw_rows)); then
	run_group "$SW_RB_COPY" "$SW_RCLONE"
	rm -rf -- "$vgw_dir/swdst"
fi
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- report -----------------------------------------------------------------
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "inf"}'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a <= b)}'; }
verdict() { if "$@"; then echo PASS; else echo FAIL; fi; }

if ((fs_rows)); then
	t_rb="${wall[$RB_ZSTD]}"
	t_gzip="${wall[$TAR_GZIP]}"
	t_zstd="${wall[$TAR_ZSTD]}"
	t_tar="${wall[$TAR]}"
	sp_gzip="$(ratio "$t_gzip" "$t_rb")"   # >= 8 wanted
	sp_zstd="$(ratio "$t_zstd" "$t_rb")"   # >= 1 wanted
	sl_tar="$(ratio "$t_rb" "$t_tar")"     # <= 2 wanted
	t_inc="${wall[$RB_INC]}"
	inc_pct="$(awk -v a="$t_inc" -v b="$t_rb" 'BEGIN {if (b > 0) printf "%.1f", 100 * a / b; else print "inf"}')" # < 5 wanted
fi
rss_limit_kib=$((150 * 1024))
# S3: the restore's 64 MiB of blob buffers plus the driver's part buffers
# (at most its 128 MiB upload memory; a restore streams one large blob at a
# time, so 5 parts of 8 MiB) plus the runtime and GC headroom.
s3_rss_limit_kib=$((300 * 1024))

report="$BENCH_DIR/report.md"
{
	echo "### regbackup benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Host: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM," \
		"$(go version | awk '{print $3}'), regbackup at $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo "Tree: mksample -size $BENCH_SIZE -small-files $BENCH_SMALL_FILES: $tree_files files," \
		"$(mib "$tree_bytes") MiB (MiB/s below is this size over wall time)."
	echo "Wall time is the median of $BENCH_RUNS run(s). Per group (backups, restores, verify) every" \
		"command runs once as an untimed warm-up, then the timed runs go round-robin over the group's commands."
	echo "The page cache is warm for every tool alike (nothing is dropped);" \
		"each run starts after an untimed sync. Peak RSS is GNU time's max RSS; for the shell" \
		"pipelines that is the largest single process of the pipeline, not their sum."
	echo "Load average (1/5/15 min) before: $load_before, after: $load_after" \
		"(anything else running on the machine skews the numbers)."
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
	if ((fs_rows)); then
		echo "Restore: the regbackup zstd archive is the input of both restore rows;" \
			"regbackup restore wrote $(mib "$restored_bytes") MiB (only referenced blobs; garbage and uploads are not backed up)."
		echo
		echo "| ratio (regbackup backup, zstd default) | value |"
		echo "|---|---:|"
		echo "| speedup vs tar \\| gzip -1 (t_gzip / t_regbackup) | ${sp_gzip}x |"
		echo "| speedup vs tar \\| zstd -1 -T0 (t_zstd / t_regbackup) | ${sp_zstd}x |"
		echo "| time vs plain tar -cf (t_regbackup / t_tar) | ${sl_tar}x |"
		echo "| regbackup --compression gzip vs tar \\| gzip -1 (speedup) | $(ratio "$t_gzip" "${wall[$RB_GZIP]}")x |"
		echo "| info, same durability: speedup vs tar \\| zstd -1 -T0; sync FILE | $(ratio "${wall[$TAR_ZSTD_SYNC]}" "$t_rb")x |"
		echo "| info, same durability: time vs tar -cf; sync FILE | $(ratio "$t_rb" "${wall[$TAR_SYNC]}")x |"
		echo "| info, CPU only (to /dev/null): speedup vs tar \\| zstd -1 -T0 | $(ratio "${wall[$TAR_ZSTD_NULL]}" "${wall[$RB_NULL]}")x |"
		echo "| info, same durability: restore time vs zstd -d \\| tar -x; sync -f | $(ratio "${wall[$RB_RESTORE]}" "${wall[$TAR_RESTORE_SYNC]}")x |"
		echo
	fi
	if ((s3_rows)); then
		echo "Object storage: versitygw (posix backend) on loopback, on the same CPUs as the tools (its work" \
			"counts against each of them alike); the source bucket is the tree itself ($tree_files objects)." \
			"regbackup --concurrency $s3_conc; rclone --transfers $s3_conc --checkers $s3_conc (Debian's $(rclone version 2>/dev/null | head -n 1))." \
			"The rclone download writes the tree as plain files, without fsync; regbackup writes, verifies and fsyncs" \
			"a zstd archive of the referenced blobs. Both uploads write the same blobs and links (rclone also the garbage and upload files)." \
			"regbackup copy writes the referenced blobs (each sha256-verified on the way) and the links; rclone copy uploads every file of the tree." \
			"The no-change re-runs go to buckets already holding a full copy: regbackup lists the target and compares sizes, and the MD5s (ETags) of link files, rclone lists and compares size and time."
		echo
	fi
	if ((sw_rows)); then
		echo "Swift: a real single-node Swift 2.30 (Debian's packages, tempauth) on loopback, sharing the CPUs" \
			"with versitygw and the tools. The tree was loaded once, untimed (${sw_load_s}s), by swiftload as" \
			"Distribution 2.8's swift driver lays it out: links as plain objects, every blob a Dynamic Large Object" \
			"(a 0-byte manifest listed as 0 bytes, 20 MiB segments). Both copies go to a fresh, empty versitygw bucket each run," \
			"regbackup --concurrency $s3_conc, rclone --transfers $s3_conc --checkers $s3_conc." \
			"regbackup copy wrote $sw_rb_files objects, $(mib "$sw_rb_bytes") MiB (the referenced blobs, each sha256-verified, and the links);" \
			"rclone copy wrote $sw_rc_files objects, $(mib "$sw_rc_bytes") MiB (every object below reg/files/, garbage and uploads too)." \
			"Both HEAD every 0-byte listing entry for its size; regbackup also lists each large object's segments before reading it (a lost segment is damage)."
		echo
	fi
	echo "| target (from the issue) | measured | result |"
	echo "|---|---:|---|"
	if ((fs_rows)); then
		echo "| backup at least 8x faster than tar \\| gzip -1 | ${sp_gzip}x | $(verdict le 8 "$sp_gzip") |"
		echo "| backup no slower than tar \\| zstd -1 -T0 | ${t_rb}s vs ${t_zstd}s | $(verdict le "$t_rb" "$t_zstd") |"
		echo "| backup at most 2x plain tar | ${sl_tar}x | $(verdict le "$sl_tar" 2) |"
		echo "| incremental backup of the unchanged registry under 5% of a full backup's time | ${t_inc}s = ${inc_pct}% | $(verdict le "$inc_pct" 5) |"
		for n in "$RB_ZSTD" "$RB_GZIP" "$RB_RESTORE" "$RB_VERIFY"; do
			echo "| peak RSS under 150 MiB: $n | $(awk -v k="${rss[$n]}" 'BEGIN {printf "%.1f MiB", k/1024}') | $(verdict test "${rss[$n]}" -lt "$rss_limit_kib") |"
		done
	fi
	if ((gl_rows)); then
		t_gr="${wall[$GL_RB]}" t_gt="${wall[$GL_TAR]}"
		echo "| restore of GitLab's registry.tar.gz, every digest verified, at least as fast as gzip -cd \\| tar -x | ${t_gr}s vs ${t_gt}s = $(ratio "$t_gr" "$t_gt")x | $(verdict le "$t_gr" "$t_gt") |"
		echo "| peak RSS under 150 MiB: $GL_RB | $(awk -v k="${rss[$GL_RB]}" 'BEGIN {printf "%.1f MiB", k/1024}') | $(verdict test "${rss[$GL_RB]}" -lt "$rss_limit_kib") |"
	fi
	if ((s3_rows)); then
		t_b="${wall[$S3_RB_BACKUP]}" t_d="${wall[$S3_RCLONE_DL]}" t_r="${wall[$S3_RB_RESTORE]}" t_u="${wall[$S3_RCLONE_UL]}"
		echo "| backup from S3 at least as fast as rclone copy s3: -> DIR | ${t_b}s vs ${t_d}s | $(verdict le "$t_b" "$t_d") |"
		echo "| restore to S3 at least as fast as rclone copy DIR -> s3: | ${t_r}s vs ${t_u}s | $(verdict le "$t_r" "$t_u") |"
		t_c="${wall[$S3_RB_COPY]}" t_c2="${wall[$S3_RB_COPY_AGAIN]}"
		echo "| copy DIR -> S3 at least as fast as rclone copy DIR -> s3: (same transfers) | ${t_c}s vs ${t_u}s | $(verdict le "$t_c" "$t_u") |"
		echo "| copy re-run with no change at least 20x faster than the first copy | ${t_c2}s = $(ratio "$t_c" "$t_c2")x faster | $(verdict le 20 "$(ratio "$t_c" "$t_c2")") |"
		for n in "$S3_RB_BACKUP" "$S3_RB_RESTORE" "$S3_RB_COPY"; do
			echo "| peak RSS under $((s3_rss_limit_kib / 1024)) MiB: $n | $(awk -v k="${rss[$n]}" 'BEGIN {printf "%.1f MiB", k/1024}') | $(verdict test "${rss[$n]}" -lt "$s3_rss_limit_kib") |"
		done
	fi
	if ((sw_rows)); then
		t_sr="${wall[$SW_RB_COPY]}" t_sc="${wall[$SW_RCLONE]}"
		echo "| copy Swift -> S3 at least as fast as rclone copy sw: -> s3: (same transfers) | ${t_sr}s vs ${t_sc}s = $(ratio "$t_sr" "$t_sc")x | $(verdict le "$t_sr" "$t_sc") |"
		echo "| peak RSS under $((s3_rss_limit_kib / 1024)) MiB: $SW_RB_COPY | $(awk -v k="${rss[$SW_RB_COPY]}" 'BEGIN {printf "%.1f MiB", k/1024}') | $(verdict test "${rss[$SW_RB_COPY]}" -lt "$s3_rss_limit_kib") |"
	fi
	echo
} >"$report"

cat "$report"
cat "$report" >>"$tools/last.md"
rm -f -- "$report"
say "appended to ${tools#"$repo"/}/last.md"
