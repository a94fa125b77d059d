#!/usr/bin/env bash
# Assembles the board kits into public/kits from Debian binary packages fetched by name. The Pi
# kits: the arm64 kernel that linux-image-arm64 points to, raspi-firmware (non-free-firmware) and
# busybox-static:arm64. The pc kit: an i386 kernel built from linux-source-6.1 by kits/x86/kernel.sh
# (cached by version and config), seabios' bios.bin and busybox-static:i386. Packages, unpacked
# trees and the kernel are cached in $BOOTSMITH_CACHE; the kits are rebuilt only when a package
# version or the recipe changes. Prints nothing when up to date.
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
ensure_arch i386
ensure_kit_lists

recipe=$(cat kits/build.sh kits/sources.sh kits/*.ts kits/x86/* workers/kits/boards.ts | sha256sum | cut -d' ' -f1)
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

# candidates NAME:ARCH...: "NAME:ARCH VERSION" for each, the version apt would fetch, from one
# apt-cache call (each call costs about a second on these machines); stale lists are refreshed
# once if apt knows a name no longer. apt-cache prints one block per known package, in order.
versions_of() {
  apt-cache policy "$@" 2>/dev/null |
    awk '/^[^ ]/ {b++} /^  Candidate:/ {v[b] = $2} END {for (i = 1; i <= b; i++) print ((i in v) ? v[i] : "(none)")}'
}
candidates() {
  local v
  v=$(versions_of "$@")
  if [ "$(grep -cvx '(none)' <<<"$v")" -ne $# ]; then apt_update; v=$(versions_of "$@"); fi
  [ "$(grep -cvx '(none)' <<<"$v")" -eq $# ] || { log "apt has no candidate for some of: $*"; return 1; }
  paste -d' ' <(printf '%s\n' "$@") <(printf '%s\n' "$v")
}

kpkg=$(deb_depends linux-image-arm64:arm64 '^linux-image-[0-9]')
if [ -z "$kpkg" ]; then apt_update; kpkg=$(deb_depends linux-image-arm64:arm64 '^linux-image-[0-9]'); fi
[ -n "$kpkg" ] || { log "cannot resolve linux-image-arm64 for arm64"; exit 1; }
specs=("$kpkg:arm64" raspi-firmware:all busybox-static:arm64 linux-source-6.1:all seabios:all busybox-static:i386)
key=$(echo "$recipe"; candidates "${specs[@]}")

# 2. The lists moved (an apt-get update) but the versions and the recipe are the same.
if [ -s "$out/index.json" ] && [ -f "$made" ] && [ "$(cat "$made")" = "$key" ] &&
   [ -f "$stamp" ] && [ "$(tail -n +2 "$stamp")" = "$(blobs)" ]; then
  quick > "$stamp"
  exit 0
fi

# 3. Fetch, unpack (dpkg-deb -R keeps DEBIAN/control for the versions), build the pc kernel and
#    assemble.
assemble() {
  local trees=() s deb tree d t keep pckernel=
  for s in "${specs[@]}"; do
    deb=$(deb_fetch "$s" "$debs")
    # The kernel source is not unpacked here: kernel.sh reads it from the .deb when it must build.
    if [[ $s == linux-source-* ]]; then pckernel=$(bash kits/x86/kernel.sh "$deb"); continue; fi
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
  node --import tsx kits/assemble.ts --kernel "${trees[0]}" --firmware "${trees[1]}" --busybox "${trees[2]}" \
    --pc-kernel "$pckernel" --seabios "${trees[3]}" --busybox-i386 "${trees[4]}" --out "$out"
}

log "assembling the board kits (Pi, pc) into $out"
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
