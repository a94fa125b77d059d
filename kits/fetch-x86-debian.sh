#!/usr/bin/env bash
# Assembles the Debian x86 boot assets used by the boot tests: Debian's i386 686 kernel and
# busybox-static for i386, fetched by package name and unpacked into the cache. Prints nothing on a
# cache hit. Output: $BOOTSMITH_CACHE/x86-debian/{vmlinuz,busybox,versions.txt}
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

out=$BOOTSMITH_CACHE/x86-debian
[ -s "$out/vmlinuz" ] && [ -s "$out/busybox" ] && [ -s "$out/versions.txt" ] && exit 0

log "assembling Debian x86 boot assets in $out"
debs=$BOOTSMITH_CACHE/debs
kpkg=$(deb_depends linux-image-686:i386 '^linux-image-[0-9]')
if [ -z "$kpkg" ]; then apt_update; kpkg=$(deb_depends linux-image-686:i386 '^linux-image-[0-9]'); fi
[ -n "$kpkg" ] || { log "cannot resolve linux-image-686 for i386"; exit 1; }
kdeb=$(deb_fetch "$kpkg:i386" "$debs")
bdeb=$(deb_fetch busybox-static:i386 "$debs")

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$kdeb" "$tmp/k"
dpkg-deb -x "$bdeb" "$tmp/b"
mkdir -p "$out"
cp "$(ls "$tmp"/k/boot/vmlinuz-* | head -1)" "$out/vmlinuz"
cp "$tmp/b/bin/busybox" "$out/busybox"
{
  echo "kernel $(dpkg-deb -f "$kdeb" Package) $(dpkg-deb -f "$kdeb" Version)"
  echo "busybox $(dpkg-deb -f "$bdeb" Package) $(dpkg-deb -f "$bdeb" Version)"
} > "$out/versions.txt"
cat "$out/versions.txt" >&2
