# Source-package helpers for the wasm-tools recipes. Sourced by wasm-tools/build.sh after
# scripts/lib.sh (log, retry, apt_update).

WASM_SRC_CACHE="$BOOTSMITH_CACHE/wasm-src"

# ensure_deb_src: apt-get source needs deb-src indexes. When no deb-src entry exists, write
# /etc/apt/sources.list.d/bootsmith-src.sources from the machine's own debian.sources (same URIs,
# suites, components and keyring; Types: deb-src) and refresh the package lists.
ensure_deb_src() {
  local have=
  if grep -qsE '^[[:space:]]*Types:.*deb-src' /etc/apt/sources.list.d/*.sources ||
     grep -qsE '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; then
    have=1
  fi
  if [ -z "$have" ]; then
    local base=/etc/apt/sources.list.d/debian.sources
    [ -f "$base" ] || { log "no $base to derive a deb-src entry from"; return 1; }
    log "adding deb-src entries derived from $base"
    # One stanza per enabled "deb" stanza; comments dropped; field continuation lines kept.
    awk '
      function flush() {
        if (n > 0 && isdeb && !disabled) {
          if (out++) print ""
          print "Types: deb-src"
          for (i = 1; i <= n; i++) print lines[i]
        }
        n = 0; isdeb = 0; disabled = 0
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/ { if ($0 ~ /[[:space:]]deb([[:space:]]|$)/) isdeb = 1; next }
      /^Enabled:[[:space:]]*no/ { disabled = 1 }
      { lines[++n] = $0 }
      END { flush() }
    ' "$base" | $SUDO tee /etc/apt/sources.list.d/bootsmith-src.sources >/dev/null
    APT_UPDATED=
  fi
  if [ -z "$(apt-cache showsrc e2fsprogs 2>/dev/null | head -1)" ]; then
    APT_UPDATED=
    apt_update
  fi
}

# src_version PKG: the newest version of source package PKG that apt knows.
src_version() {
  local best= v
  for v in $(apt-cache showsrc "$1" 2>/dev/null | awk '/^Version:/ {print $2}'); do
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  [ -n "$best" ] || { log "apt knows no source package $1"; return 1; }
  echo "$best"
}

# src_fetch PKG VERSION: downloads the source package (cached) and prints the path of its .dsc.
src_fetch() {
  local pkg=$1 ver=$2 dir="$WASM_SRC_CACHE/downloads" dsc
  dsc="$dir/${pkg}_${ver#*:}.dsc"
  mkdir -p "$dir"
  if [ ! -s "$dsc" ]; then
    local sandbox=()
    [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
    log "downloading source package $pkg $ver"
    (cd "$dir" && retry 3 apt-get source --download-only -qq "${sandbox[@]}" "$pkg=$ver") >&2
    [ -s "$dsc" ] || { log "apt-get source did not produce $dsc"; return 1; }
  fi
  echo "$dsc"
}

# src_unpack DSC DIR: a fresh copy of the source, with Debian's patches applied, in DIR.
src_unpack() {
  rm -rf "$2"
  mkdir -p "$(dirname "$2")"
  dpkg-source --no-check -q -x "$1" "$2" >&2
}
