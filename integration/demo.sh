#!/usr/bin/env bash
# integration/demo.sh — `make demo`: regbackup end to end on a built-in
# sample registry, with no network. Run from the repository root after
# `make build` (the Makefile does both).
set -euo pipefail
cd "$(dirname "$0")/.."
rb=bin/regbackup
dir=demo
rm -rf "$dir" && mkdir -p "$dir/certs"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. a sample registry tree, written by regbackup's own generator (integration/sample)"
run bin/mksample -seed 42 "$dir/registry"
printf -- '-----BEGIN PRIVATE KEY-----\ndemo-signing-key\n-----END PRIVATE KEY-----\n' > "$dir/certs/registry.key"
printf -- '-----BEGIN CERTIFICATE-----\ndemo-certificate\n-----END CERTIFICATE-----\n' > "$dir/certs/registry.crt"
chmod 600 "$dir/certs/registry.key"

step "2. back it up, with the token-signing key and certificate"
run $rb backup --from "$dir/registry" --include-file "$dir/certs/registry.key" \
	--include-file "$dir/certs/registry.crt" -o "$dir/registry.tar.zst"

step "3. verify every digest, every link and the trailer"
run $rb verify "$dir/registry.tar.zst"

step "4. list what the archive holds"
run $rb list "$dir/registry.tar.zst"

step "5. restore into a fresh folder, key material into its own folder"
mkdir -p "$dir/restored"
run $rb restore "$dir/registry.tar.zst" --to "$dir/restored" --files-to "$dir/restored-certs"

step "6. compare: every tag must point to the same digest, every file must be identical"
run $rb backup -q --from "$dir/restored" -o "$dir/restored.tar.zst"
$rb list --json "$dir/registry.tar.zst" | grep '"digest"' | sort > "$dir/before.txt"
$rb list --json "$dir/restored.tar.zst" | grep '"digest"' | sort > "$dir/after.txt"
if ! diff -u "$dir/before.txt" "$dir/after.txt"; then
	echo "demo: FAILED: the restored registry differs" >&2
	exit 1
fi
# The link files and referenced blobs are byte-identical (uploads in
# progress and unreferenced garbage are, by design, not backed up).
(cd "$dir/registry" && find docker -path '*/_uploads' -prune -o -type f -name link -print | sort | xargs sha256sum) > "$dir/src-links.txt"
(cd "$dir/restored" && find docker -type f -name link | sort | xargs sha256sum) > "$dir/dst-links.txt"
diff -q "$dir/src-links.txt" "$dir/dst-links.txt" >/dev/null || { echo "demo: FAILED: link files differ" >&2; exit 1; }
cmp -s "$dir/certs/registry.key" "$dir/restored-certs/registry.key" || { echo "demo: FAILED: key differs" >&2; exit 1; }
echo "same $(wc -l < "$dir/before.txt") tag digests, $(wc -l < "$dir/src-links.txt") identical link files, key restored with mode $(stat -c %a "$dir/restored-certs/registry.key")"

step "7. a damaged archive is caught: flip one byte in the middle and verify again"
cp "$dir/registry.tar.zst" "$dir/damaged.tar.zst"
size=$(stat -c %s "$dir/damaged.tar.zst")
printf '\x5a' | dd of="$dir/damaged.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc status=none
set +e
$rb verify -q "$dir/damaged.tar.zst"
code=$?
set -e
echo "verify exit code: $code (3 = integrity)"
[ "$code" -eq 3 ] || { echo "demo: FAILED: damage not detected" >&2; exit 1; }

step "8. migrate: copy the registry to another storage with no archive, then again (nothing new to copy)"
run $rb copy --from "$dir/registry" --to "$dir/copied"
$rb copy --json -q --from "$dir/registry" --to "$dir/copied" > "$dir/copy-again.json"
grep -q '"blobs": 0,' "$dir/copy-again.json" && grep -q '"links": 0,' "$dir/copy-again.json" ||
	{ echo "demo: FAILED: a second copy with nothing new copied something: $(cat "$dir/copy-again.json")" >&2; exit 1; }
(cd "$dir/copied" && find docker -type f -name link | sort | xargs sha256sum) > "$dir/copied-links.txt"
diff -q "$dir/src-links.txt" "$dir/copied-links.txt" >/dev/null || { echo "demo: FAILED: copied link files differ" >&2; exit 1; }
echo "copied: $(wc -l < "$dir/copied-links.txt") identical link files; the second run copied 0 blobs and wrote 0 links"

step "done: everything is in ./$dir"
