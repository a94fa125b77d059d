#!/usr/bin/env bash
# Builds the WASI runtime reproducers in wasm-tools/repro/ into wasm-tools/repro/dist/ (ignored).
# Run by wasm-tools/build.sh; needs the toolchain that it installs. Cheap: rebuilt when changed.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
: "${BOOTSMITH_CACHE:=$HOME/.cache/bootsmith}"
. "$HERE/../common/toolchain.sh"
mkdir -p "$HERE/dist"
for src in "$HERE"/*.c; do
  out="$HERE/dist/$(basename "${src%.c}").wasm"
  if [ ! -s "$out" ] || [ "$src" -nt "$out" ] || [ "$HERE/../common/toolchain.sh" -nt "$out" ]; then
    $CC $WASM_CPPFLAGS $WASM_CFLAGS $WASM_LDFLAGS "$src" -o "$out"
  fi
done
