#!/usr/bin/env bash
# Builds the pc kit's i386 kernel from Debian's linux-source package:
#
#   bash kits/x86/kernel.sh <linux-source-X.Y .deb>     → prints the folder holding the result
#
# `make ARCH=i386 tinyconfig`, then kits/x86/kernel.config merged in, then `make bzImage`.
# The result (bzImage, the full .config, the kernel release) is cached in
# $BOOTSMITH_CACHE/x86-kernel/<key>/, keyed by the package version, the fragment's option lines,
# this script's commands and the compiler (comments change nothing), so it is built once (about 9
# minutes on 2 cores) and is silent on a cache hit.
# Timestamps, user and host are fixed, so the same inputs give the same bzImage.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh

deb=${1:?usage: kits/x86/kernel.sh <linux-source .deb>}
fragment=kits/x86/kernel.config
base=$BOOTSMITH_CACHE/x86-kernel
pkg=$(dpkg-deb -f "$deb" Package)
ver=$(dpkg-deb -f "$deb" Version)
options() { grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set)' "$fragment"; }
key=$( { echo "$pkg $ver"; options; grep -vE '^[[:space:]]*(#|$)' kits/x86/kernel.sh; gcc --version | head -1; } | sha256sum | cut -c1-16)
out=$base/$ver-$key
if [ -s "$out/bzImage" ] && [ -s "$out/release" ]; then echo "$out"; exit 0; fi

ensure_packages build-essential bc bison flex libelf-dev libssl-dev lz4 xz-utils
# One fixed build folder: the same paths every time keep the build reproducible.
work=$base/build
rm -rf "$work"
mkdir -p "$work/out"
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
buildlog=$base/build.log
: > "$buildlog"
log "building the pc kit's i386 kernel from $pkg $ver (about 9 minutes on 2 cores; log in $buildlog)"
# The .deb holds /usr/src/linux-source-X.Y.tar.xz: unpack it straight from the package.
dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' | tar -xJ -C "$work"
src=$(ls -d "$work"/linux-source-*/)
src=${src%/}

# Reproducible: the build time is the source's own (its Makefile's mtime), not now.
export KBUILD_BUILD_TIMESTAMP="$(date -u -d "@$(stat -c %Y "$src/Makefile")" '+%a %b %e %H:%M:%S UTC %Y')"
export KBUILD_BUILD_USER=bootsmith KBUILD_BUILD_HOST=bootsmith KBUILD_BUILD_VERSION=1
mk() { make -C "$src" O="$work/out" ARCH=i386 "$@" >>"$buildlog" 2>&1; }
if ! {
  mk tinyconfig &&
  "$src/scripts/kconfig/merge_config.sh" -m -O "$work/out" "$work/out/.config" "$fragment" >>"$buildlog" 2>&1 &&
  mk olddefconfig
}; then
  tail -20 "$buildlog" >&2; log "configuring the kernel failed"; exit 1
fi

# Every line of the fragment must be in the final .config: a dependency that is not met makes
# olddefconfig drop an option silently.
lost=$(options | while IFS= read -r line; do
  name=$(echo "$line" | grep -oE 'CONFIG_[A-Za-z0-9_]+')
  if [[ $line == '#'* ]]; then
    # "not set" also holds when the option is absent altogether.
    grep -qE "^$name=" "$work/out/.config" && echo "$line"
  else
    grep -qxF "$line" "$work/out/.config" || echo "$line (got: $(grep -E "^(# )?$name[= ]" "$work/out/.config" || echo absent))"
  fi
done || true)
if [ -n "$lost" ]; then
  log "kits/x86/kernel.config asks for options the kernel configuration did not keep:"
  printf '  %s\n' "$lost" >&2
  exit 1
fi

if ! mk -j"$(nproc)" bzImage; then
  tail -30 "$buildlog" >&2; log "building the kernel failed"; exit 1
fi

mkdir -p "$out.tmp"
cp "$work/out/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$work/out/.config" "$out.tmp/config"
cat "$work/out/include/config/kernel.release" > "$out.tmp/release"
# The package's copyright file travels with the kit as the kernel's licence.
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/doc/$pkg/copyright" > "$out.tmp/copyright"
srcpkg=$(dpkg-deb -f "$deb" Source | cut -d" " -f1)
printf "Package: %s\nVersion: %s\nSource: %s\n" "$pkg" "$ver" "${srcpkg:-$pkg}" > "$out.tmp/control"
rm -rf "$out"
mv "$out.tmp" "$out"
# Kernels built from older versions or fragments are no longer needed.
for d in "$base"/*/; do d=${d%/}; [ "$d" = "$out" ] || [ "$d" = "$work" ] || rm -rf "$d"; done
log "built $(cat "$out/release") in $(($(date +%s) - started)) s: $(stat -c %s "$out/bzImage") bytes"
echo "$out"
