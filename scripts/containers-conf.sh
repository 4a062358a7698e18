#!/usr/bin/env bash
# Pins what Podman needs on these hosts in a containers.conf (created when missing), keeping everything
# else in it: [containers] default_ulimits = [] (the default ulimits fail here), [engine] runtime = "runc"
# (crun fails here), [network] network_backend = "netavark" (storage that already holds images keeps
# CNI otherwise: no name resolution on workspace networks). Idempotent. Usage: containers-conf.sh FILE
set -euo pipefail
conf=${1:?usage: containers-conf.sh FILE}

# Sets KEY = VALUE in [SECTION] of a TOML file, keeping everything else: replaces the key where it is set
# (a multi-line array included), adds it to the section, or appends the section. Writes only on change.
set_toml_key() { # file section key value
  local tmp
  tmp=$(mktemp)
  awk -v sec="[$2]" -v key="$3" -v val="$4" '
    function put() { if (!done) { print key " = " val; done = 1 } }
    function flush() { printf "%s", blanks; blanks = "" }
    /^[[:space:]]*\[[^]]*\][[:space:]]*(#.*)?$/ {
      if (insec) put()
      flush()
      h = $0; sub(/^[[:space:]]*/, "", h); sub(/[[:space:]]*(#.*)?$/, "", h)
      insec = (h == sec); if (insec) seen = 1
      print; next
    }
    skip { if ($0 ~ /\]/) skip = 0; next }
    insec && /^[[:space:]]*$/ { blanks = blanks $0 "\n"; next }
    insec && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
      flush()
      if ($0 ~ /=[[:space:]]*\[/ && $0 !~ /\]/) skip = 1
      put(); next
    }
    { flush(); print }
    END { if (insec) put(); flush(); if (!seen) { if (NR > 0) print ""; print sec; print key " = " val } }
  ' "$1" >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else cat "$tmp" >"$1"; rm -f "$tmp"; fi
}

mkdir -p "$(dirname "$conf")"
touch "$conf"
set_toml_key "$conf" containers default_ulimits '[]'
set_toml_key "$conf" engine runtime '"runc"'
set_toml_key "$conf" network network_backend '"netavark"'
