#!/usr/bin/env bash
# integration/setup.sh — install everything the integration tests need.
#
# Idempotent: quiet when everything is already present (takes well under a
# second then), prints one line per action otherwise. Run as root on a fresh
# Debian bookworm machine (`make test` does); as non-root it uses sudo for apt
# if sudo exists.
#
#   apt packages : docker-registry (Distribution 2.8) zstd pigz rclone time tmux
#   Go tools     : crane, registry (Distribution 3) — pinned by `tool` directives
#                  in integration/tools/go.mod, built into <repo>/.tools/bin and
#                  rebuilt only when missing or older than integration/tools/go.mod
#                  (or go.sum).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="$repo/.tools/bin"

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# ---- apt packages -----------------------------------------------------------
apt_pkgs=(docker-registry zstd pigz rclone time tmux)
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
	say "apt-get install -y ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- pinned Go tools --------------------------------------------------------
tools_dir="$here/tools"
stale=0
for b in crane registry; do
	f="$bin/$b"
	if [ ! -x "$f" ] || [ "$tools_dir/go.mod" -nt "$f" ] || [ "$tools_dir/go.sum" -nt "$f" ]; then
		stale=1
	fi
done
# Built tools are also kept outside the clone, keyed by the pins, so a fresh
# clone (CI) copies them in seconds instead of rebuilding.
cache="${REGBACKUP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/regbackup-tools}/$(cat "$tools_dir/go.mod" "$tools_dir/go.sum" | sha256sum | cut -c1-16)"
if ((stale)) && [ -x "$cache/crane" ] && [ -x "$cache/registry" ]; then
	mkdir -p "$bin"
	cp "$cache/crane" "$cache/registry" "$bin/"
	touch "$bin/crane" "$bin/registry"
	say "crane and registry copied from the tool cache $cache"
	stale=0
fi
if ((stale)); then
	command -v go >/dev/null || die "go is not in PATH: install Go (see go.mod for the version) first"
	mkdir -p "$bin"
	say "building crane and registry from integration/tools/go.mod into .tools/bin (first time: a few minutes)"
	(cd "$tools_dir" && go build -o "$bin/" \
		github.com/google/go-containerregistry/cmd/crane \
		github.com/distribution/distribution/v3/cmd/registry)
	# go build leaves an up-to-date binary untouched; bump mtimes so the
	# "older than go.mod" check above is false next time.
	touch "$bin/crane" "$bin/registry"
	mkdir -p "$cache" && cp "$bin/crane" "$bin/registry" "$cache/" || true
	say "built: $("$bin/crane" version 2>/dev/null | head -n1) crane, $("$bin/registry" --version 2>/dev/null | awk '{print $NF}') registry"
fi
