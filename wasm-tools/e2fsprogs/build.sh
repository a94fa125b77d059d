#!/usr/bin/env bash
# e2fsprogs (Debian source package) for wasm32-wasi: mke2fs, e2fsck and debugfs.
# Run by wasm-tools/build.sh inside the unpacked, patched source ($SRC) with the toolchain from
# common/toolchain.sh exported; leaves <tool>.wasm in $OUT.
set -euo pipefail
cd "$SRC"
. "$WASM_COMMON/toolchain.sh"
build_compat "$SRC/.compat"
wasm_config_sub config/config.sub
# e2fsprogs links its programs without $(LIBS); lld resolves archives in any order, so the
# WASI libraries can ride along in LDFLAGS.
WASM_LDFLAGS="$WASM_LDFLAGS $WASM_LIBS"
# Private uuid and blkid libraries (there are no system ones for WASI); nothing that needs
# threads, processes, mmap'd databases or devices: no tdb (e2fsck's undo files), no MMP, no
# uuidd, no fsck wrapper, no fuse2fs, no e2image/resize2fs/e4defrag.
wasm_configure \
  --enable-libuuid --enable-libblkid \
  --disable-nls --disable-tls --without-pthread --disable-backtrace \
  --disable-tdb --disable-mmp --disable-uuidd --disable-fsck --disable-e2initrd-helper \
  --disable-fuse2fs --disable-imager --disable-resizer --disable-defrag \
  --disable-bmap-stats --disable-elf-shlibs --disable-bsd-shlibs --disable-rpath \
  --disable-testio-debug
make -j"$JOBS" libs
make -j"$JOBS" -C misc mke2fs
make -j"$JOBS" -C e2fsck e2fsck
make -j"$JOBS" -C debugfs debugfs
cp misc/mke2fs "$OUT/mke2fs.wasm"
cp e2fsck/e2fsck "$OUT/e2fsck.wasm"
cp debugfs/debugfs "$OUT/debugfs.wasm"
