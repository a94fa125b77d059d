#!/usr/bin/env bash
# Installs everything Bootsmith needs that a fresh Debian 12 + Node 20 machine lacks.
# Idempotent: each step checks first and does nothing when its result is already there.
# Caches live outside git, in $BOOTSMITH_CACHE (default ~/.cache/bootsmith).
#   scripts/setup.sh app     — what `npm start` needs (node modules, the WASM file-system tools)
#   scripts/setup.sh test    — everything `npm test` needs (adds Chromium, QEMU, the native
#                              checkers cpio/e2fsprogs/dosfstools/mtools, boot assets)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

what=${1:-test}

# Node modules: reinstall only when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing node modules"
  retry 3 npm ci --no-audit --no-fund --loglevel=error
fi

# The file-system tools the engine runs as WebAssembly, built from Debian's source packages.
bash wasm-tools/build.sh

# Board kits (Pi firmware, kernels, DTBs, modules, busybox) from Debian packages, into public/kits.
bash kits/build.sh

[ "$what" = app ] && exit 0

# Debian packages used by the tests: the browser, the emulator and the independent checkers.
ensure_arch i386
ensure_packages chromium qemu-system-x86 qemu-system-arm cpio e2fsprogs dosfstools mtools fdisk zip unzip fonts-dejavu-core

# Boot assets for the test tier: Debian's i386 kernel and static busybox, fetched by name.
bash kits/fetch-x86-debian.sh
