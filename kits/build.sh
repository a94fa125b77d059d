#!/usr/bin/env bash
# Assembles the Raspberry Pi board kits into public/kits from Debian binary packages fetched by
# name: the arm64 kernel that linux-image-arm64 points to, raspi-firmware (non-free-firmware) and
# busybox-static:arm64. Packages and unpacked trees are cached in $BOOTSMITH_CACHE; the kits are
# rebuilt only when a package version or the recipe changes. Prints nothing when up to date.
# Output: public/kits/{index.json,<board>/kit.json,blobs/<sha256>} (see docs/kits.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. kits/sources.sh

out=public/kits
cache=$BOOTSMITH_CACHE/kits
debs=$BOOTSMITH_CACHE/debs
stamp=$out/.stamp     # quick key + the blob names, for the no-apt check
made=$out/.packages   # recipe hash + the package versions the kits were made from

ensure_kit_sources
ensure_arch arm64
ensure_kit_lists

recipe=$(cat kits/build.sh kits/sources.sh kits/*.ts workers/kits/boards.ts | sha256sum | cut -d' ' -f1)
blobs() { ls "$out/blobs" 2>/dev/null || true; }
# quick: the recipe, the apt sources and the package lists' names, sizes and times; then the blobs.
quick() {
  {
    echo "$recipe"
    { cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } | sha256sum | cut -d' ' -f1
    { stat -c '%n %s %Y' /var/lib/apt/lists/*_Packages* 2>/dev/null || true; } | sha256sum | cut -d' ' -f1
  } | paste -sd' '
  blobs
}

# 1. Nothing changed since the kits were made (no apt-cache call, which takes about a second each
#    on a machine without apt's package cache).
if [ -s "$out/index.json" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(quick)" ]; then
  exit 0
fi

# candidate NAME:ARCH: the version apt would fetch (refreshing stale lists once if it knows none).
candidate() {
  local v
  v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$v" ] || [ "$v" = "(none)" ]; then
    apt_update
    v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}')
  fi
  [ -n "$v" ] && [ "$v" != "(none)" ] || { log "apt knows no package $1"; return 1; }
  echo "$v"
}

kpkg=$(deb_depends linux-image-arm64:arm64 '^linux-image-[0-9]')
if [ -z "$kpkg" ]; then apt_update; kpkg=$(deb_depends linux-image-arm64:arm64 '^linux-image-[0-9]'); fi
[ -n "$kpkg" ] || { log "cannot resolve linux-image-arm64 for arm64"; exit 1; }
specs=("$kpkg:arm64" raspi-firmware:all busybox-static:arm64)
key=$(echo "$recipe"; for s in "${specs[@]}"; do echo "$s $(candidate "$s")"; done)

# 2. The lists moved (an apt-get update) but the versions and the recipe are the same.
if [ -s "$out/index.json" ] && [ -f "$made" ] && [ "$(cat "$made")" = "$key" ] &&
   [ -f "$stamp" ] && [ "$(tail -n +2 "$stamp")" = "$(blobs)" ]; then
  quick > "$stamp"
  exit 0
fi

# 3. Fetch, unpack (dpkg-deb -R keeps DEBIAN/control for the versions) and assemble.
assemble() {
  local trees=() s deb tree d t keep
  for s in "${specs[@]}"; do
    deb=$(deb_fetch "$s" "$debs")
    tree=$cache/unpacked/$(basename "$deb" .deb)
    if [ ! -f "$tree/.unpacked" ]; then
      rm -rf "$tree"; mkdir -p "$tree"
      dpkg-deb -R "$deb" "$tree"
      touch "$tree/.unpacked"
    fi
    trees+=("$tree")
  done
  # Unpacked trees of older versions are no longer needed.
  for d in "$cache"/unpacked/*; do
    keep=
    for t in "${trees[@]}"; do [ "$d" = "$t" ] && keep=1; done
    [ -n "$keep" ] || rm -rf "$d"
  done
  node --import tsx kits/assemble.ts --kernel "${trees[0]}" --firmware "${trees[1]}" --busybox "${trees[2]}" --out "$out"
}

log "assembling the Pi board kits into $out"
set +e
( set -e; assemble )
rc=$?
set -e
if [ $rc -ne 0 ]; then
  if [ -s "$out/index.json" ] && [ -f "$made" ] && [ "$(head -1 "$made")" = "$recipe" ]; then
    # Same recipe, new package versions that could not be fetched (a mirror mid-sync can lack
    # them for a while): keep the kits we have. A changed recipe that fails is an error.
    log "could not assemble new kits (exit $rc); keeping the kits already in $out"
    exit 0
  fi
  log "could not assemble the kits (exit $rc)"
  exit $rc
fi
echo "$key" > "$made"
quick > "$stamp"
