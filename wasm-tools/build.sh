#!/usr/bin/env bash
# Builds the file-system tools the engine runs as WebAssembly, from Debian's source packages:
#   e2fsprogs  -> mke2fs.wasm e2fsck.wasm debugfs.wasm
#   dosfstools -> mkfs.fat.wasm fsck.fat.wasm
#   mtools     -> mtools.wasm (one multi-call binary: argv[0] = mcopy, mmd, mdir, ...)
# Usage: wasm-tools/build.sh [e2fsprogs|dosfstools|mtools ...]   (default: all three)
#
# Idempotent and cached. Sources and builds live in $BOOTSMITH_CACHE/wasm-src (outside git); a
# build is keyed by the source package version plus a hash of everything under wasm-tools/common
# and wasm-tools/<upstream> (patches, stubs, flags, recipe) and the toolchain's versions, so an
# edit rebuilds and nothing else does. Output: wasm-tools/dist/<tool>.wasm, a copy in public/wasm/
# and public/wasm/manifest.json (size and sha256 of each tool).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
. "$ROOT/scripts/lib.sh"
. "$HERE/sources.sh"

packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(e2fsprogs dosfstools mtools)

ensure_packages clang lld wasi-libc libclang-rt-14-dev-wasm32 binaryen dpkg-dev
. "$HERE/common/toolchain.sh"
export JOBS="${WASM_JOBS:-$(nproc)}"

mkdir -p "$HERE/dist" "$ROOT/public/wasm" "$WASM_SRC_CACHE/out" "$WASM_SRC_CACHE/build"

# The tools each upstream recipe must produce.
tools_of() {
  case "$1" in
    e2fsprogs) echo mke2fs e2fsck debugfs ;;
    dosfstools) echo mkfs.fat fsck.fat ;;
    mtools) echo mtools ;;
    *) log "unknown upstream $1"; return 1 ;;
  esac
}

toolchain_id() {
  clang --version | head -1
  dpkg-query -W -f='${Package} ${Version}\n' wasi-libc libclang-rt-14-dev-wasm32 lld binaryen 2>/dev/null || true
}

build_one() {
  local pkg=$1 ver key out work t
  tools_of "$pkg" >/dev/null
  # Sources can be cached already; only ask apt for deb-src indexes when this version is unknown.
  ver=$(src_version "$pkg" 2>/dev/null) || { ensure_deb_src; ver=$(src_version "$pkg"); }
  key=$({ echo "$ver"; toolchain_id
          (cd "$HERE" && find common "$pkg" -type f | LC_ALL=C sort | xargs sha256sum); } | sha256sum | cut -c1-12)
  out="$WASM_SRC_CACHE/out/$pkg-$key"
  if [ ! -f "$out/.done" ]; then
    ensure_deb_src
    local dsc started
    dsc=$(src_fetch "$pkg" "$ver")
    work="$WASM_SRC_CACHE/build/$pkg-$key"
    log "building $pkg $ver for wasm32-wasi (key $key; log in $work/build.log)"
    started=$(date +%s)
    src_unpack "$dsc" "$work/src"
    rm -rf "$out.tmp"; mkdir -p "$out.tmp"
    (
      cd "$work/src"
      for p in "$HERE/$pkg"/patches/*.patch; do
        [ -e "$p" ] || continue
        echo "== applying $(basename "$p")"
        patch -p1 --forward --no-backup-if-mismatch <"$p"
      done
      SRC="$work/src" OUT="$out.tmp" bash "$HERE/$pkg/build.sh"
    ) >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; log "building $pkg failed; see $work/build.log"; return 1; }
    for t in $(tools_of "$pkg"); do
      [ -s "$out.tmp/$t.wasm" ] || { log "$pkg did not produce $t.wasm"; return 1; }
      if command -v wasm-opt >/dev/null; then
        wasm-opt $WASM_OPT_FLAGS "$out.tmp/$t.wasm" -o "$out.tmp/$t.opt.wasm"
        mv "$out.tmp/$t.wasm" "$out.tmp/$t.unopt.wasm"
        mv "$out.tmp/$t.opt.wasm" "$out.tmp/$t.wasm"
      fi
    done
    printf '{"package":"%s","version":"%s","key":"%s","buildSeconds":%d}\n' \
      "$pkg" "$ver" "$key" $(( $(date +%s) - started )) >"$out.tmp/.done"
    cp "$work/build.log" "$out.tmp/build.log"
    rm -rf "$out"; mv "$out.tmp" "$out"
    # Keep only this build: older keys of the package and the build tree go.
    find "$WASM_SRC_CACHE/out" "$WASM_SRC_CACHE/build" -mindepth 1 -maxdepth 1 -name "$pkg-*" \
      ! -name "$pkg-$key" -exec rm -rf {} +
    rm -rf "$work"
    log "built $pkg in $(( $(date +%s) - started )) s"
  fi
  for t in $(tools_of "$pkg"); do
    cp "$out/$t.wasm" "$HERE/dist/$t.wasm"
    cp "$out/$t.wasm" "$ROOT/public/wasm/$t.wasm"
  done
  cp "$out/.done" "$HERE/dist/$pkg.build.json"
}

for pkg in "${packages[@]}"; do build_one "$pkg"; done

# The positional-I/O reproducer that workers/wasi/runtime.test.ts runs under each WASI runtime.
bash "$HERE/repro/build.sh"

# The manifest lists every tool present in dist/ (also those built by an earlier run).
node "$HERE/manifest.mjs" "$HERE/dist" "$ROOT/public/wasm/manifest.json"
log "wasm tools ready in public/wasm"
