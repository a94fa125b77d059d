# apt sources for the board kits. Sourced by kits/build.sh after scripts/lib.sh (log, retry,
# apt_update).
#
# raspi-firmware lives in Debian's non-free-firmware component, which the machine's
# debian.sources does not list. ensure_kit_sources writes /etc/apt/sources.list.d/bootsmith.sources
# with the URIs and keyring copied from the debian.sources stanza whose Suites include bookworm
# (no host name is written into the repository; the mirror is whatever the machine already uses),
# Suites: bookworm, Components: non-free-firmware. Rewritten only when its content would change.

KIT_SOURCES=/etc/apt/sources.list.d/bootsmith.sources

# kit_sources_text: the wanted content of $KIT_SOURCES, on stdout.
kit_sources_text() {
  local base=/etc/apt/sources.list.d/debian.sources
  [ -f "$base" ] || { log "no $base to derive the non-free-firmware entry from"; return 1; }
  # Stanzas are separated by blank lines; comments are dropped; a field's continuation lines
  # (leading space, e.g. an inline Signed-By key) stay with their field.
  awk '
    function flush() {
      if (n > 0 && isdeb && !disabled && bookworm && !done) {
        print "# Written by Bootsmith (kits/sources.sh) from debian.sources: the Pi firmware"
        print "# (raspi-firmware) is in the non-free-firmware component."
        print "Types: deb"
        for (i = 1; i <= n; i++) print lines[i]
        print "Suites: bookworm"
        print "Components: non-free-firmware"
        done = 1
      }
      n = 0; isdeb = 0; disabled = 0; bookworm = 0; keep = 0
    }
    /^[[:space:]]*#/ { next }
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]/ { if (keep) lines[++n] = $0; next }
    {
      keep = 0
      field = $1
      if (field == "Types:") { if ($0 ~ /[[:space:]]deb([[:space:]]|$)/) isdeb = 1; next }
      if (field == "Enabled:" && $2 == "no") disabled = 1
      if (field == "Suites:") { for (i = 2; i <= NF; i++) if ($i == "bookworm") bookworm = 1; next }
      if (field == "URIs:" || field == "Signed-By:" || field == "Architectures:" || field == "Trusted:") {
        lines[++n] = $0; keep = 1
      }
    }
    END { flush(); if (!done) exit 1 }
  ' "$base" || { log "no enabled deb stanza with Suites: bookworm in $base"; return 1; }
}

# ensure_kit_sources: writes $KIT_SOURCES when missing or different (the next apt_update then
# fetches the non-free-firmware indexes).
ensure_kit_sources() {
  local want
  want=$(kit_sources_text) || return 1
  if [ ! -f "$KIT_SOURCES" ] || [ "$(cat "$KIT_SOURCES")" != "$want" ]; then
    log "writing $KIT_SOURCES (non-free-firmware, URIs from debian.sources)"
    printf '%s\n' "$want" | $SUDO tee "$KIT_SOURCES" >/dev/null
    APT_UPDATED=
    KIT_SOURCES_CHANGED=1
  fi
}

# ensure_kit_lists: refreshes the package lists when the sources just changed or apt has no index of
# the non-free-firmware component yet. (A file test, not apt-cache: on a machine without apt's
# package cache every apt-cache call takes about a second.)
ensure_kit_lists() {
  if [ -n "${KIT_SOURCES_CHANGED:-}" ] ||
     ! ls /var/lib/apt/lists/*_bookworm_non-free-firmware_binary-*_Packages* >/dev/null 2>&1; then
    apt_update
  fi
}
