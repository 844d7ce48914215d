#!/usr/bin/env bash
# integration/bench/gitlabdb.sh — `make bench`, GitLab's registry with its
# metadata database: regbackup against pg_dump + tar | zstd -T0.
#
# Makes (once, untimed) a registry of BENCH_GL_TAGS tags (mksample
# -small-files, plus BENCH_GL_SIZE of layers), imports its metadata into a
# PostgreSQL database with GitLab's own `registry database import`, then
# removes its link files: what a registry that always ran on the database
# has. PostgreSQL 15 (Debian's) runs as the postgres user on loopback in
# BENCH_DIR, stopped at the end. Then, median of BENCH_RUNS, round-robin:
#
#   regbackup backup --registry-config CFG     pg_dump -Fc; tar -cf - ROOT | zstd -1 -T0
#   regbackup restore --to-registry-config CFG2  pg_restore; zstd -d | tar -x
#
# (each restore into an empty database and an empty folder), and after the
# last restore, untimed, `regbackup check --registry-config CFG2` proves
# what it restored. Prints a Markdown table and appends it to
# .tools/bench/last.md. Needs bash integration/setup.sh (gitlab-registry,
# postgresql).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="$repo/.tools/bench"
BENCH_DIR="${BENCH_DIR:-/tmp/regbackup-bench}"
BENCH_RUNS="${BENCH_RUNS:-3}"
BENCH_GL_TAGS="${BENCH_GL_TAGS:-2000}"
BENCH_GL_SIZE="${BENCH_GL_SIZE:-256MiB}"
pgbin=/usr/lib/postgresql/15/bin
glreg="$repo/.tools/bin/gitlab-registry"

say() { printf 'bench-gitlabdb: %s\n' "$*" >&2; }
die() { printf 'bench-gitlabdb: ERROR: %s\n' "$*" >&2; exit 1; }
[ -x "$glreg" ] || die "$glreg is missing: run bash integration/setup.sh"
[ -x "$pgbin/initdb" ] || die "$pgbin/initdb is missing: apt-get install postgresql (integration/setup.sh does)"
id postgres >/dev/null 2>&1 || die "no postgres user (Debian's postgresql package makes it)"

mkdir -p "$tools" "$BENCH_DIR"
BENCH_DIR="$(cd "$BENCH_DIR" && pwd)"
(cd "$repo" && go build -o "$tools/" ./cmd/regbackup ./integration/cmd/mksample)
rb="$tools/regbackup"

w="$BENCH_DIR/gitlabdb"
rm -rf -- "$w"
mkdir -p "$w/out"
chmod 755 "$w"
pg="$w/pg"
port=$((20000 + RANDOM % 20000))
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
	as_pg "$pgbin/pg_ctl" -D "$pg" -m immediate stop >/dev/null 2>&1 || true
	rm -rf -- "$w"
}
trap cleanup EXIT

# ---- PostgreSQL -------------------------------------------------------------
install -d -o postgres "$pg" "$w/sock"
as_pg "$pgbin/initdb" -D "$pg" -U registry --auth=trust >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pg" -w -l "$w/sock/pg.log" \
	-o "-p $port -k $w/sock -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=registry
psql=("$pgbin/psql" -q -d postgres -v ON_ERROR_STOP=1)
server="$("$pgbin/psql" -At -d postgres -c 'SHOW server_version')"

config() { # config FILE ROOT DBNAME
	cat >"$1" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: "$2"}
  maintenance: {uploadpurging: {enabled: false}}
database: {enabled: true, host: 127.0.0.1, port: $port, user: registry, password: bench, dbname: $3, sslmode: disable}
http: {addr: 127.0.0.1:0, secret: bench}
EOF
}

# ---- the registry -----------------------------------------------------------
tree="$BENCH_DIR/gitlab-$BENCH_GL_SIZE-t$BENCH_GL_TAGS"
if ! [ -f "$tree.done" ]; then
	rm -rf -- "$tree" "$tree.import.dump"
	say "generating $tree (mksample -size $BENCH_GL_SIZE -small-files $BENCH_GL_TAGS)"
	"$tools/mksample" -size "$BENCH_GL_SIZE" -small-files "$BENCH_GL_TAGS" "$tree" >&2
	touch "$tree.done"
fi
root="$w/root"
cp -al "$tree" "$root"
"${psql[@]}" -c 'CREATE DATABASE registry'
config "$w/config.yml" "$root" registry
if [ -f "$tree.import.dump" ]; then # the import of an earlier run
	"$pgbin/pg_restore" --no-owner --single-transaction -d registry "$tree.import.dump"
	t_import="$(cat "$tree.import.time")"
else
	say "migrating and importing with GitLab's registry database import (untimed; kept for the next run)"
	"$glreg" database migrate up "$w/config.yml" >"$w/migrate.log" 2>&1 || { cat "$w/migrate.log" >&2; die "migrate up failed"; }
	t0=$(date +%s.%N)
	(cd "$w" && "$glreg" database import "$w/config.yml") >"$w/import.log" 2>&1 || { tail -20 "$w/import.log" >&2; die "database import failed"; }
	t_import=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b-a}')
	"$pgbin/pg_dump" -Fc -d registry -f "$tree.import.dump"
	echo "$t_import" >"$tree.import.time"
fi
rm -rf -- "$root/docker/registry/v2/repositories"
mkdir -p "$root/docker/registry/lockfiles"
[ -f "$root/docker/registry/lockfiles/database-in-use" ] || printf '{"version":1}' >"$root/docker/registry/lockfiles/database-in-use"
tags=$("$pgbin/psql" -At -d registry -c 'SELECT count(*) FROM tags')
blobs=$(find "$root/docker/registry/v2/blobs" -name data | wc -l)
bytes=$(du -sb "$root" | cut -f1)
say "registry: $tags tags, $blobs blobs, $((bytes >> 20)) MiB, imported in ${t_import}s"

root2="$w/root2"
config "$w/config2.yml" "$root2" registry2
fresh_target() {
	"${psql[@]}" -c 'DROP DATABASE IF EXISTS registry2' -c 'CREATE DATABASE registry2'
	rm -rf -- "$root2"
	mkdir -p "$root2"
}

# ---- measuring --------------------------------------------------------------
tfile="$w/time.out"
declare -A walls rss
timed() { # timed NAME CMD...: one run, appends the wall time, keeps the top RSS
	local name="$1"
	shift
	sync
	/usr/bin/time -o "$tfile" -f '%e %M' "$@" || { cat "$tfile" >&2; die "failed: $*"; }
	read -r wall kib < <(tail -n 1 "$tfile")
	walls[$name]+="$wall "
	say "  $name: ${wall}s, $((kib >> 10)) MiB"
	((kib > ${rss[$name]:-0})) && rss[$name]=$kib
	return 0
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

RB_B="regbackup backup --registry-config (zstd)"
BASE_B="pg_dump -Fc; tar -cf - | zstd -1 -T0"
RB_R="regbackup restore --to-registry-config"
BASE_R="pg_restore; zstd -d | tar -x"
dump() { "$pgbin/pg_dump" -Fc -d registry -f "$w/out/db.dump" && tar -cf - -C "$root" . | zstd -q -1 -T0 >"$w/out/storage.tar.zst"; }
load() { "$pgbin/pg_restore" --no-owner --no-privileges --single-transaction -d registry2 "$w/out/db.dump" && zstd -q -d <"$w/out/storage.tar.zst" | tar -x -C "$root2"; }
export -f dump load
export pgbin w root root2

for i in $(seq 0 "$BENCH_RUNS"); do # run 0: untimed warm-up
	say "backups, round $i of $BENCH_RUNS"
	rm -f "$w/out/"*
	timed "$RB_B" "$rb" backup -q --registry-config "$w/config.yml" --pg-bin "$pgbin" -o "$w/out/rb.tar.zst"
	timed "$BASE_B" bash -c dump
	say "restores, round $i of $BENCH_RUNS"
	fresh_target
	timed "$RB_R" "$rb" restore -q "$w/out/rb.tar.zst" --to-registry-config "$w/config2.yml" --pg-bin "$pgbin"
	fresh_target
	timed "$BASE_R" bash -c load
	if ((i == 0)); then
		walls=() rss=()
	fi
done
rb_size=$(stat -c %s "$w/out/rb.tar.zst")
base_size=$(($(stat -c %s "$w/out/db.dump") + $(stat -c %s "$w/out/storage.tar.zst")))
fresh_target
"$rb" restore -q "$w/out/rb.tar.zst" --to-registry-config "$w/config2.yml" --pg-bin "$pgbin"
"$rb" check -q --registry-config "$w/config2.yml" --read-data || die "check of the restored registry failed"

report="$w/report.md"
{
	echo "### regbackup benchmark, GitLab's registry with its metadata database, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Host: $(nproc) CPUs; PostgreSQL $server (Debian's, loopback, fsync on); regbackup at $(cd "$repo" && git rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo "Registry: $tags tags, $blobs blobs, $((bytes >> 20)) MiB (mksample -size $BENCH_GL_SIZE -small-files $BENCH_GL_TAGS," \
		"imported by GitLab's \`registry database import\` in ${t_import}s, link files then removed)."
	echo "Median of $BENCH_RUNS after a warm-up; restores into an empty database and folder; the restored registry passed \`regbackup check --read-data\`."
	echo
	echo "| tool | wall s (median) | peak RSS MiB | output MiB |"
	echo "|---|---:|---:|---:|"
	for n in "$RB_B" "$BASE_B" "$RB_R" "$BASE_R"; do
		o="—"
		[ "$n" = "$RB_B" ] && o=$((rb_size >> 20))
		[ "$n" = "$BASE_B" ] && o=$((base_size >> 20))
		printf '| %s | %s | %.1f | %s |\n' "${n//|/\\|}" "$(median <<<"${walls[$n]}")" "$(awk -v k="${rss[$n]}" 'BEGIN {print k/1024}')" "$o"
	done
	tb=$(median <<<"${walls[$RB_B]}") tbb=$(median <<<"${walls[$BASE_B]}")
	tr=$(median <<<"${walls[$RB_R]}") trb=$(median <<<"${walls[$BASE_R]}")
	echo
	echo "| target (issue 12) | measured | result |"
	echo "|---|---:|---|"
	echo "| backup no slower than pg_dump then tar \\| zstd -T0 | ${tb}s vs ${tbb}s = $(awk -v a="$tb" -v b="$tbb" 'BEGIN {printf "%.2f", a/b}')x | $(awk -v a="$tb" -v b="$tbb" 'BEGIN {print (a <= b) ? "PASS" : "FAIL"}') |"
	echo "| info: restore vs pg_restore then zstd -d \\| tar -x (no digest checked, no fsync) | ${tr}s vs ${trb}s = $(awk -v a="$tr" -v b="$trb" 'BEGIN {printf "%.2f", a/b}')x | — |"
	echo
} >"$report"
cat "$report"
cat "$report" >>"$tools/last.md"
