#!/usr/bin/env bash
# integration/setup.sh — install everything the integration tests need.
#
# Idempotent: quiet when everything is already present (takes well under a
# second then), prints one line per action otherwise. Run as root on a fresh
# Debian bookworm machine (`make test` does); as non-root it uses sudo for apt
# if sudo exists.
#
#   apt packages : docker-registry (Distribution 2.8) zstd pigz rclone time tmux
#                  postgresql (15: initdb/pg_ctl/pg_dump/pg_restore; the tests start
#                  their own cluster, so no main cluster is created)
#   Go tools     : crane, registry (Distribution 3), versitygw (S3), fake-gcs-server
#                  — pinned by `tool` directives
#                  in integration/tools{,/versitygw,/fakegcs}/go.mod, built into <repo>/.tools/bin and
#                  rebuilt only when missing or older than integration/tools/go.mod
#                  (or go.sum).
#   GitLab       : gitlab-registry (GitLab's container registry with its metadata
#                  database), built by ../shared/tools/gitlab-registry/build.sh from
#                  the pinned source beside it into a cache folder keyed by the
#                  source tarball's hash, copied to <repo>/.tools/bin
#   npm packages : azurite (package.json, package-lock.json) into <repo>/node_modules
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="$repo/.tools/bin"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# ---- apt packages -----------------------------------------------------------
apt_pkgs=(docker-registry zstd pigz rclone time tmux postgresql)
missing=()
for p in "${apt_pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
	sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "missing packages (${missing[*]}): run as root or install sudo"
		sudo=(sudo)
	fi
	say "apt-get update (missing: ${missing[*]})"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	# Debian's postgresql would create and start a "main" cluster: the
	# tests start clusters of their own, so tell postgresql-common not to.
	if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
		"${sudo[@]}" mkdir -p /etc/postgresql-common
		echo 'create_main_cluster = false' | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
	fi
	say "apt-get install -y ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- pinned Go tools --------------------------------------------------------
# Each group is its own module under integration/tools (so their dependency
# graphs never meet): <dir>:<binary>=<package>...
tool_groups=(
	".:crane=github.com/google/go-containerregistry/cmd/crane registry=github.com/distribution/distribution/v3/cmd/registry"
	"versitygw:versitygw=github.com/versity/versitygw/cmd/versitygw"
	"fakegcs:fake-gcs-server=github.com/fsouza/fake-gcs-server"
)
cache_root="${REGBACKUP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/regbackup-tools}"
for group in "${tool_groups[@]}"; do
	dir="$here/tools/${group%%:*}"
	specs=(${group#*:})
	bins=() pkgs=()
	for s in "${specs[@]}"; do bins+=("${s%%=*}"); pkgs+=("${s#*=}"); done
	stale=0
	for b in "${bins[@]}"; do
		f="$bin/$b"
		if [ ! -x "$f" ] || [ "$dir/go.mod" -nt "$f" ] || [ "$dir/go.sum" -nt "$f" ]; then
			stale=1
		fi
	done
	((stale)) || continue
	# Built tools are also kept outside the clone, keyed by the pins, so a
	# fresh clone (CI) copies them in seconds instead of rebuilding.
	cache="$cache_root/$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-16)"
	cached=1
	for b in "${bins[@]}"; do [ -x "$cache/$b" ] || cached=0; done
	mkdir -p "$bin"
	if ((cached)); then
		for b in "${bins[@]}"; do cp "$cache/$b" "$bin/" && touch "$bin/$b"; done
		say "${bins[*]} copied from the tool cache $cache"
		continue
	fi
	command -v go >/dev/null || die "go is not in PATH: install Go (see go.mod for the version) first"
	say "building ${bins[*]} from ${dir#$repo/}/go.mod into .tools/bin (first time: a few minutes)"
	(cd "$dir" && go build -o "$bin/" "${pkgs[@]}")
	# go build leaves an up-to-date binary untouched; bump mtimes so the
	# "older than go.mod" check above is false next time.
	for b in "${bins[@]}"; do touch "$bin/$b"; done
	mkdir -p "$cache" && for b in "${bins[@]}"; do cp "$bin/$b" "$cache/"; done || true
	say "built ${bins[*]}"
done

# ---- GitLab's container registry --------------------------------------------
# Built from the pinned source tarball beside build.sh (called in place, never
# copied); the cache folder is keyed by the tarball's hash, so a new pin builds
# once and every clone after that copies the binary in a second.
glr_dir="$repo/../shared/tools/gitlab-registry"
if [ -d "$glr_dir" ]; then
	glr_tar=$(ls "$glr_dir"/gitlab-container-registry-*.tar.gz 2>/dev/null | head -n1)
	[ -n "$glr_tar" ] || die "no gitlab-container-registry-*.tar.gz in $glr_dir"
	glr_key=$(cat "$glr_tar" "$glr_dir/build.sh" | sha256sum | cut -c1-16)
	glr_stamp="$bin/gitlab-registry.key"
	if [ ! -x "$bin/gitlab-registry" ] || [ "$(cat "$glr_stamp" 2>/dev/null)" != "$glr_key" ]; then
		glr_cache="$cache_root/gitlab-registry-$glr_key"
		if [ ! -x "$glr_cache/gitlab-registry" ]; then
			command -v go >/dev/null || die "go is not in PATH: install Go first (GitLab's registry is built from source)"
			say "building gitlab-registry with ${glr_dir#$repo/}/build.sh (first time: about 6 minutes)"
			bash "$glr_dir/build.sh" "$glr_cache" >/dev/null
		fi
		mkdir -p "$bin"
		cp "$glr_cache/gitlab-registry" "$bin/gitlab-registry"
		echo "$glr_key" >"$glr_stamp"
		say "gitlab-registry copied from the tool cache $glr_cache"
	fi
else
	say "WARNING: $glr_dir not found: the GitLab registry tests will skip (fail under CI=true)"
fi

# ---- npm tools (Azurite) ----------------------------------------------------
if [ ! -x "$repo/node_modules/.bin/azurite-blob" ] || [ "$repo/package-lock.json" -nt "$repo/node_modules/.bin/azurite-blob" ]; then
	command -v npm >/dev/null || die "npm is not in PATH: install Node.js and npm (Azurite needs them)"
	say "npm ci (Azurite, pinned in package-lock.json)"
	(cd "$repo" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	touch "$repo/node_modules/.bin/azurite-blob"
fi
