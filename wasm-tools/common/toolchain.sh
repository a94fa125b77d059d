# The wasm32-wasi toolchain shared by every recipe. Sourced by wasm-tools/build.sh; the recipes
# (wasm-tools/<upstream>/build.sh) see the exported variables below.
#
# WASI_SYSROOT is a directory of symlinks that holds only the WASI headers and libraries of
# Debian's wasi-libc. Pointing --sysroot at /usr instead would let clang fall back to glibc's
# headers in /usr/include for anything wasi-libc lacks, and the build would go silently wrong.

WASM_COMMON="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export WASM_COMMON

wasi_sysroot() {
  local root="$1"
  mkdir -p "$root/include" "$root/lib"
  ln -sfn /usr/include/wasm32-wasi "$root/include/wasm32-wasi"
  ln -sfn /usr/lib/wasm32-wasi "$root/lib/wasm32-wasi"
}

export WASI_SYSROOT="$BOOTSMITH_CACHE/wasm-src/sysroot"
wasi_sysroot "$WASI_SYSROOT"

export WASM_TRIPLE=wasm32-unknown-wasi
export CC="clang --target=wasm32-wasi --sysroot=$WASI_SYSROOT"
export AR=llvm-ar RANLIB=llvm-ranlib NM=llvm-nm STRIP=true
# The emulated-signal/clock/getpid/mman switches unlock the parts of wasi-libc that carry them;
# common/include wraps a few headers (with #include_next) to declare what wasi-libc omits.
export WASM_CPPFLAGS="-isystem $WASM_COMMON/include -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID -D_WASI_EMULATED_MMAN"
export WASM_CFLAGS="-O2 -g0 -ffunction-sections -fdata-sections -Wno-unused-command-line-argument"
# A 2 MiB stack placed first in memory: with the default 64 KiB stack, mcopy of a file over
# about 64 KB overwrote its own data instead of failing. --stack-first makes an overflow trap.
export WASM_LDFLAGS="-Wl,-z,stack-size=2097152 -Wl,--stack-first -Wl,--gc-sections"
export WASM_LIBS="-lwasmcompat -lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid -lwasi-emulated-mman"

# build_compat DIR: compiles common/*.c into DIR/libwasmcompat.a and adds -LDIR to WASM_LDFLAGS.
build_compat() {
  local dir="$1" f objs=()
  mkdir -p "$dir"
  for f in "$WASM_COMMON"/*.c; do
    $CC $WASM_CPPFLAGS $WASM_CFLAGS -c "$f" -o "$dir/$(basename "${f%.c}").o"
    objs+=("$dir/$(basename "${f%.c}").o")
  done
  rm -f "$dir/libwasmcompat.a"
  $AR rcs "$dir/libwasmcompat.a" "${objs[@]}"
  WASM_LDFLAGS="$WASM_LDFLAGS -L$dir"
  export WASM_LDFLAGS
}

# wasm_config_sub SRCDIR/PATH/config.sub: older config.sub scripts reject wasm32-wasi; wrap them so
# that any wasm32-* host is accepted as wasm32-unknown-wasi and everything else goes to the original.
wasm_config_sub() {
  local f="$1"
  [ -f "$f.orig" ] || mv "$f" "$f.orig"
  cat >"$f" <<'SH'
#!/bin/sh
case "$1" in wasm32-*) echo wasm32-unknown-wasi; exit 0 ;; esac
exec sh "$0.orig" "$@"
SH
  chmod +x "$f"
}

# wasm_configure ARGS...: runs ./configure for the WASI host with the shared flags.
wasm_configure() {
  ./configure --host=$WASM_TRIPLE --build="$(uname -m)-pc-linux-gnu" \
    CC="$CC" AR="$AR" RANLIB="$RANLIB" \
    CPPFLAGS="$WASM_CPPFLAGS" CFLAGS="$WASM_CFLAGS" LDFLAGS="$WASM_LDFLAGS" LIBS="$WASM_LIBS" "$@"
}

# binaryen's optimiser, applied to every tool after linking when wasm-opt is installed.
export WASM_OPT_FLAGS="-O2 --strip-debug --strip-producers"
