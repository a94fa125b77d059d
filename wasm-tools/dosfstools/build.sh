#!/usr/bin/env bash
# dosfstools (Debian source package) for wasm32-wasi: mkfs.fat and fsck.fat.
# Run by wasm-tools/build.sh inside the unpacked, patched source ($SRC) with the toolchain from
# common/toolchain.sh exported; leaves <tool>.wasm in $OUT.
set -euo pipefail
cd "$SRC"
. "$WASM_COMMON/toolchain.sh"
build_compat "$SRC/.compat"
wasm_config_sub config.sub
# No udev (device probing) and no iconv: wasi-libc's iconv knows only UTF-8 and Latin-1, and
# mkfs.fat/fsck.fat use the codepage for short-name display only.
wasm_configure --without-udev --without-iconv --disable-compat-symlinks
make -C src -j"$JOBS" mkfs.fat fsck.fat
cp src/mkfs.fat "$OUT/mkfs.fat.wasm"
cp src/fsck.fat "$OUT/fsck.fat.wasm"
