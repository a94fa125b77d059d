#!/usr/bin/env bash
# mtools (Debian source package) for wasm32-wasi: the one multi-call binary `mtools`; the engine
# runs it with argv[0] set to the command (mcopy, mmd, mdir, mattrib, mdel, ...).
# Run by wasm-tools/build.sh inside the unpacked, patched source ($SRC) with the toolchain from
# common/toolchain.sh exported; leaves mtools.wasm in $OUT.
set -euo pipefail
cd "$SRC"
. "$WASM_COMMON/toolchain.sh"
build_compat "$SRC/.compat"
wasm_config_sub config.sub
# No X (floppyd), no raw terminal, no vold/xdf: WASI has neither terminals nor devices.
wasm_configure --without-x --disable-floppyd --disable-raw-term --disable-xdf --disable-vold --disable-new-vold
make -j"$JOBS" mtools
cp mtools "$OUT/mtools.wasm"
