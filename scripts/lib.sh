# Shared shell helpers for the set-up scripts. Source it; do not run it.
BOOTSMITH_CACHE=${BOOTSMITH_CACHE:-$HOME/.cache/bootsmith}
export BOOTSMITH_CACHE
mkdir -p "$BOOTSMITH_CACHE"

log() { printf '[setup] %s\n' "$*" >&2; }

# retry N cmd...: runs cmd up to N times, waiting a little longer each time.
retry() {
  local n=$1 i=1; shift
  until "$@"; do
    if [ "$i" -ge "$n" ]; then return 1; fi
    log "retrying ($i/$n): $*"; sleep $((i * 5)); i=$((i + 1))
  done
}

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# apt_update: refreshes the package lists; a mirror that is mid-sync can fail one index, so a
# failure is tolerated when lists from an earlier update are present.
APT_UPDATED=
apt_update() {
  [ -n "$APT_UPDATED" ] && return 0
  if ! retry 3 $SUDO apt-get update -qq; then
    if ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
      log "apt-get update failed; carrying on with the package lists already present"
    else
      log "apt-get update failed and no package lists are present"; return 1
    fi
  fi
  APT_UPDATED=1
}

# ensure_arch ARCH: lets apt fetch packages of another architecture (for kits and test assets).
ensure_arch() {
  if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
    log "adding dpkg architecture $1"
    $SUDO dpkg --add-architecture "$1"
    APT_UPDATED=
    apt_update
  fi
}

# ensure_packages PKG...: installs the Debian packages that are not installed yet.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive retry 3 $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# deb_fetch NAME[:ARCH] DIR: downloads the newest version of a binary package into DIR (cached) and
# prints the .deb's path. A metapackage is followed to the package it depends on when asked with
# deb_resolve first.
deb_fetch() {
  local spec=$1 dir=$2 name arch ver file
  name=${spec%%:*}; arch=${spec#*:}; [ "$arch" = "$spec" ] && arch=$(dpkg --print-architecture)
  mkdir -p "$dir"
  ver=$(apt-cache policy "$name:$arch" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then apt_update; ver=$(apt-cache policy "$name:$arch" | awk '/Candidate:/ {print $2}'); fi
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { log "no Debian package $name for $arch"; return 1; }
  # apt-get download names the file with the epoch's ":" written as "%3a".
  file="$dir/${name}_${ver/:/%3a}_${arch}.deb"
  if [ ! -s "$file" ]; then
    local sandbox=()
    [ "$(id -u)" -eq 0 ] && sandbox=(-o APT::Sandbox::User=root)
    (cd "$dir" && retry 3 apt-get download -qq "${sandbox[@]}" "$name:$arch=$ver") >&2
    [ -s "$file" ] || { log "apt-get download did not produce $file"; return 1; }
  fi
  echo "$file"
}

# deb_depends NAME[:ARCH] PATTERN: the first dependency of a package whose name matches PATTERN
# (a metapackage such as linux-image-686 names the versioned kernel package this way).
deb_depends() {
  apt-cache depends "$1" 2>/dev/null | awk -v pat="$2" '$1 == "Depends:" && $2 ~ pat {print $2; exit}' | sed 's/:.*//'
}
