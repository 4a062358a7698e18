#!/bin/sh
# FoundryCloud node installer. On a fresh node, as root:
#   curl -fsSL https://HUB/install.sh | sh -s -- --join TOKEN
# (for a hub with a self-signed certificate the hub prints the same line with --pinnedpubkey.)
#
# It checks the prerequisites, checks that the agent bundle fits this node (architecture, C library),
# downloads it from the hub and verifies its SHA-256 (it carries its own Node.js runtime: the node needs
# none), enrolls the node (the Node.js side checks the hub's certificate against the token's pin before
# sending the token), writes /etc/foundry/agent.yaml and /etc/foundry/credential (mode 0600), installs a hardened
# systemd unit and starts it. Running it again changes and restarts nothing unless something changed.
# This file is served by the hub byte for byte: nothing of any request is ever written into it.
# See docs/enrollment.md.
set -eu

PROG=install.sh
JOIN=
HUB=
NAME=
PREFIX=
INSTALL_DEPS=0
NO_SYSTEMD=0
UNINSTALL=0
PURGE=0
DRY_RUN=0
INSECURE=0
PRINT_UNIT=0
# What --install-deps installs: the same set as CI (scripts/node-packages.txt; a test compares them).
NODE_PACKAGES="podman runc catatonit netavark aardvark-dns iptables git ca-certificates"

usage() {
  cat <<'EOF'
usage: install.sh --join TOKEN [options]
       install.sh --uninstall [--purge] [--prefix DIR]

  --join TOKEN      join token from `foundry hub token create` (or FOUNDRY_JOIN_TOKEN)
  --hub URL         hub URL (default: the one inside the token)
  --name NAME       node name (default: the host name)
  --install-deps    install the node packages (podman runc catatonit netavark aardvark-dns iptables git
                    ca-certificates) with apt-get or dnf; Node.js comes with the agent bundle
  --no-systemd      do not install the systemd unit; print how to run the agent
  --insecure        allow plain http to a hub that is not on loopback
  --dry-run         print what would be done and change nothing
  --prefix DIR      install under DIR instead of / (tests, images); no root needed, no systemctl
  --uninstall       remove the agent, its configuration, key and unit (workload data is kept)
  --purge           with --uninstall: also remove /var/lib/foundry
  --print-unit      print the systemd unit this would install and exit
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}
need_arg() { [ "$2" -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --join) need_arg "$1" $#; JOIN=$2; shift 2 ;;
    --join=*) JOIN=${1#*=}; shift ;;
    --hub) need_arg "$1" $#; HUB=$2; shift 2 ;;
    --hub=*) HUB=${1#*=}; shift ;;
    --name) need_arg "$1" $#; NAME=$2; shift 2 ;;
    --name=*) NAME=${1#*=}; shift ;;
    --prefix) need_arg "$1" $#; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --install-deps) INSTALL_DEPS=1; shift ;;
    --no-systemd) NO_SYSTEMD=1; shift ;;
    --insecure) INSECURE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    --print-unit) PRINT_UNIT=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

[ -n "$JOIN" ] || JOIN=${FOUNDRY_JOIN_TOKEN:-}
if [ -n "$PREFIX" ]; then
  case "$PREFIX" in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac
  PREFIX=${PREFIX%/}
fi

OPT=$PREFIX/opt/foundry
ETC=$PREFIX/etc/foundry
VAR=$PREFIX/var/lib/foundry
UNIT=$PREFIX/etc/systemd/system/foundry-agent.service
LINK=$PREFIX/usr/local/bin/foundry
RUNTIME=$OPT/current/runtime/bin/node
CONFIG=$ETC/agent.yaml
CREDENTIAL=$ETC/credential

# Runs a command, or only prints it with --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    say "would run: $*"
  else
    "$@"
  fi
}

# The unit: root (rootful Podman and libvirt sockets), everything read-only but the agent's state and
# the VM disk folder; sockets in /run are reachable read-only (connect() needs no writable mount).
render_unit() {
  cat <<EOF
# FoundryCloud node agent, installed by install.sh. Edits are overwritten by the next install.
[Unit]
Description=FoundryCloud node agent
Wants=network-online.target
After=network-online.target podman.socket libvirtd.service

[Service]
Type=simple
ExecStart=$RUNTIME $OPT/current/bin/foundry.js agent run --config $CONFIG
ExecReload=/bin/kill -HUP \$MAINPID
Restart=always
RestartSec=5
User=root
UMask=0077
Environment=NODE_ENV=production
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$VAR
ReadWritePaths=-/var/lib/libvirt/images
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
EOF
}

if [ "$PRINT_UNIT" = 1 ]; then
  render_unit
  exit 0
fi

have_systemctl() { [ -z "$PREFIX" ] && [ "$NO_SYSTEMD" = 0 ] && command -v systemctl >/dev/null 2>&1; }

uninstall() {
  if have_systemctl && [ -f "$UNIT" ]; then
    run systemctl disable --now foundry-agent.service || true
  fi
  for p in "$UNIT" "$LINK" "$OPT" "$ETC"; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      say "removing $p"
      run rm -rf "$p"
    fi
  done
  if have_systemctl; then run systemctl daemon-reload || true; fi
  # The node's age key is its identity for secrets, like the credential: it leaves with the agent.
  if [ "$PURGE" = 0 ] && [ -f "$VAR/agent/node-key.txt" ]; then
    say "removing $VAR/agent/node-key.txt (the node's key for secrets)"
    run rm -f "$VAR/agent/node-key.txt"
  fi
  if [ "$PURGE" = 1 ] && [ -e "$VAR" ]; then
    say "removing $VAR (--purge)"
    run rm -rf "$VAR"
  elif [ -e "$VAR" ]; then
    say "kept $VAR (workload state; --purge removes it)"
  fi
  # Under a prefix, also remove the folders this script made, when empty.
  if [ -n "$PREFIX" ] && [ "$DRY_RUN" = 0 ]; then
    for d in "$PREFIX/etc/systemd/system" "$PREFIX/etc/systemd" "$PREFIX/etc" "$PREFIX/usr/local/bin" "$PREFIX/usr/local" "$PREFIX/usr" "$PREFIX/opt" "$PREFIX/var/lib" "$PREFIX/var"; do
      rmdir "$d" 2>/dev/null || true
    done
  fi
  say "uninstalled${PREFIX:+ from $PREFIX}; revoke the node on the hub: POST /api/v1/nodes/NAME/revoke"
}

if [ "$UNINSTALL" = 1 ]; then
  uninstall
  exit 0
fi

# --- the join token: fjt_<secret>.<pin>.<base64url hub url> (docs/enrollment.md)
[ -n "$JOIN" ] || die "no join token: pass --join TOKEN (create one on the hub: foundry hub token create)"
case "$JOIN" in
  fjt_*) ;;
  *) die "malformed join token: it starts with fjt_" ;;
esac
case "$JOIN" in
  *[!A-Za-z0-9_.-]*) die "malformed join token: unexpected characters" ;;
esac
rest=${JOIN#*.}
if [ "$rest" = "$JOIN" ]; then
  PIN=
  HUB64=
else
  PIN=${rest%%.*}
  HUB64=${rest#*.}
  [ "$HUB64" != "$rest" ] || HUB64=
fi

b64url_decode() {
  s=$(printf '%s' "$1" | tr '_-' '/+')
  case $((${#s} % 4)) in
    2) s="$s==" ;;
    3) s="$s=" ;;
  esac
  printf '%s' "$s" | base64 -d
}

if [ -z "$HUB" ] && [ -n "$HUB64" ]; then
  HUB=$(b64url_decode "$HUB64") || die "malformed join token: bad hub url"
fi
[ -n "$HUB" ] || die "the join token names no hub: pass --hub URL"
HUB=${HUB%/}
case "$HUB" in
  *[!A-Za-z0-9:/.%_~\[\]-]*) die "unexpected characters in the hub url" ;;
esac

hostport=${HUB#*://}
hostport=${hostport%%/*}
case "$hostport" in
  \[*) host=${hostport%%]*}; host=${host#\[} ;;
  *) host=${hostport%%:*} ;;
esac
case "$HUB" in
  https://*) SCHEME=https ;;
  http://*)
    SCHEME=http
    [ -z "$PIN" ] || die "the join token pins a TLS certificate but the hub url is plain http"
    case "$host" in
      localhost | 127.* | ::1) ;;
      *) [ "$INSECURE" = 1 ] || die "refusing plain http to $host: use https, or --insecure on a trusted network" ;;
    esac
    ;;
  *) die "the hub url must start with https:// (or http:// to loopback)" ;;
esac
if [ -n "$PIN" ]; then
  case "$PIN" in
    *[!A-Za-z0-9_-]*) die "malformed join token: bad certificate pin" ;;
  esac
  [ ${#PIN} -eq 43 ] || die "malformed join token: bad certificate pin"
  CURL_PIN="sha256//$(printf '%s' "$PIN" | tr '_-' '/+')="
else
  CURL_PIN=
fi

# --- prerequisites (no Node.js: the bundle carries its own runtime)
missing_tools() {
  out=
  for t in curl tar gzip sha256sum base64 sed git podman; do
    command -v "$t" >/dev/null 2>&1 || out="$out $t"
  done
  printf '%s' "$out"
}

# Installs NODE_PACKAGES (already installed ones are left as they are).
install_packages() {
  say "installing the node packages: $NODE_PACKAGES"
  # NODE_PACKAGES is split into words on purpose: one package each.
  # shellcheck disable=SC2086
  if command -v apt-get >/dev/null 2>&1; then
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $NODE_PACKAGES
  elif command -v dnf >/dev/null 2>&1; then
    run dnf install -y -q --setopt=install_weak_deps=False $NODE_PACKAGES
  else
    die "--install-deps knows apt-get and dnf only: install $NODE_PACKAGES yourself"
  fi
}

if [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
  die "run as root: curl -fsSL $HUB/install.sh | sudo sh -s -- --join TOKEN (or --prefix DIR for a private install)"
fi

if [ "$INSTALL_DEPS" = 1 ]; then install_packages; fi
MISSING=$(missing_tools)
if [ -n "$MISSING" ] && { [ "$DRY_RUN" = 0 ] || [ "$INSTALL_DEPS" = 0 ]; }; then
  die "missing prerequisites:$MISSING (rerun with --install-deps, or install them: $NODE_PACKAGES)"
fi

# --- talking to the hub: with a pin, curl checks the hub's key (-k only skips the CA chain)
hub_curl() {
  if [ -n "$CURL_PIN" ]; then
    curl -sS --proto =https -k --pinnedpubkey "$CURL_PIN" --connect-timeout 15 "$@"
  elif [ "$SCHEME" = https ]; then
    curl -sS --proto =https --connect-timeout 15 "$@"
  else
    curl -sS --proto =http --connect-timeout 15 "$@"
  fi
}
fetch() { hub_curl -f -o "$2" "$1"; }
# An HTTP refusal with the hub's own JSON message: " (http 503: message)".
refusal() {
  msg=$(sed -n 's/.*"message":"\([^"]*\)".*/\1/p' "$2" | head -n 1)
  printf ' (http %s%s)' "$1" "${msg:+: $msg}"
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/foundry-install.XXXXXX")
STAGE=
cleanup() {
  rm -rf "$TMP"
  if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The first request: curl reports a connection or pin failure itself; an answer that refuses says why.
STATUS=$(hub_curl -o "$TMP/bundle.sha256" -w '%{http_code}' "$HUB/agent/foundry-agent.tgz.sha256") || die "cannot fetch the bundle checksum from $HUB (wrong hub, or its certificate does not match the token's pin)"
case "$STATUS" in
  2??) ;;
  *) die "the hub cannot serve the agent bundle$(refusal "$STATUS" "$TMP/bundle.sha256")" ;;
esac
WANT=$(cut -c1-64 "$TMP/bundle.sha256")
case "$WANT" in
  *[!0-9a-f]*) die "the hub published a malformed checksum" ;;
esac
[ ${#WANT} -eq 64 ] || die "the hub published a malformed checksum"

# --- does the bundle fit this node? It carries the hub's Node.js runtime: same architecture, same C library.
fetch "$HUB/agent/foundry-agent.platform" "$TMP/platform" || die "cannot fetch the agent bundle's platform from $HUB"
platform_value() { sed -n "s/^$1=\([A-Za-z0-9_.-]*\)\$/\1/p" "$TMP/platform" | head -n 1; }
B_MACHINE=$(platform_value machine)
B_LIBC=$(platform_value libc)
B_GLIBC=$(platform_value glibc)
if [ -z "$B_MACHINE" ] || [ -z "$B_LIBC" ]; then die "the hub published a malformed agent bundle platform"; fi
MACHINE=$(uname -m)
if [ "$MACHINE" != "$B_MACHINE" ]; then
  die "this node is $MACHINE but the hub's agent bundle is for $B_MACHINE (it carries the hub's own Node.js runtime): enroll $MACHINE nodes from a hub that runs on $MACHINE"
fi
# "glibc 2.36" (getconf is part of glibc), else musl or unknown.
NODE_GLIBC=$(getconf GNU_LIBC_VERSION 2>/dev/null || true)
NODE_GLIBC=${NODE_GLIBC#glibc }
case "$NODE_GLIBC" in
  [0-9]*.[0-9]*) NODE_LIBC=glibc ;;
  *) if ldd --version 2>&1 | grep -qi musl; then NODE_LIBC=musl; else NODE_LIBC=unknown; fi ;;
esac
# True when dotted version $1 >= $2 (major.minor).
version_ge() {
  a1=${1%%.*}; a2=${1#*.}; a2=${a2%%.*}
  b1=${2%%.*}; b2=${2#*.}; b2=${b2%%.*}
  [ "$a1" -gt "$b1" ] || { [ "$a1" -eq "$b1" ] && [ "$a2" -ge "$b2" ]; }
}
if [ "$NODE_LIBC" != "$B_LIBC" ]; then
  die "this node's C library is $NODE_LIBC but the hub's agent bundle needs $B_LIBC${B_GLIBC:+ >= $B_GLIBC}"
fi
if [ "$B_LIBC" = glibc ] && [ -n "$B_GLIBC" ] && ! version_ge "$NODE_GLIBC" "$B_GLIBC"; then
  die "this node has glibc $NODE_GLIBC but the hub's agent bundle needs glibc >= $B_GLIBC"
fi

CHANGED=
HAVE=
if [ -f "$OPT/bundle.sha256" ]; then HAVE=$(cat "$OPT/bundle.sha256"); fi
if [ "$HAVE" = "$WANT" ] && [ -f "$OPT/releases/$WANT/bin/foundry.js" ] && [ -x "$OPT/releases/$WANT/runtime/bin/node" ] && [ -L "$OPT/current" ]; then
  RUNNER=$OPT/current/bin/foundry.js
  NODE=$RUNTIME
  say "agent bundle ${WANT%"${WANT#????????????}"} already installed"
elif [ "$DRY_RUN" = 1 ]; then
  say "would download $HUB/agent/foundry-agent.tgz, check sha256 $WANT and install it into $OPT/releases/$WANT"
  RUNNER=
  NODE=
else
  say "downloading the agent bundle from $HUB"
  fetch "$HUB/agent/foundry-agent.tgz" "$TMP/bundle.tgz" || die "cannot download the agent bundle from $HUB"
  GOT=$(sha256sum "$TMP/bundle.tgz" | cut -d ' ' -f 1)
  [ "$GOT" = "$WANT" ] || die "agent bundle checksum mismatch (got $GOT, the hub published $WANT): refusing to install it"
  mkdir -p "$OPT/releases"
  STAGE=$OPT/releases/.stage-$$
  rm -rf "$STAGE"
  mkdir -p "$STAGE"
  tar -xzf "$TMP/bundle.tgz" -C "$STAGE" --no-same-owner || die "cannot unpack the agent bundle"
  if [ ! -f "$STAGE/bin/foundry.js" ] || [ ! -x "$STAGE/runtime/bin/node" ]; then die "the agent bundle has no bin/foundry.js or runtime/bin/node"; fi
  RUNNER=$STAGE/bin/foundry.js
  NODE=$STAGE/runtime/bin/node
  # The bundled runtime must start here and load the bundle's native addons (same ABI, enough C library).
  if ! CHECK=$("$NODE" "$STAGE/runtime/check.cjs" 2>&1); then
    die "the agent bundle's Node.js runtime does not run on this node: $(printf '%s\n' "$CHECK" | grep -m 1 -i 'error' || printf '%s\n' "$CHECK" | head -n 1)"
  fi
  say "bundled runtime: $CHECK"
  CHANGED="$CHANGED bundle"
fi

# --- enrollment (once): the token is sent by the Node.js side after it checked the hub's certificate pin
if [ -s "$CONFIG" ] && [ -s "$CREDENTIAL" ]; then
  say "already enrolled ($CONFIG); the join token was not used"
elif [ "$DRY_RUN" = 1 ]; then
  say "would enroll with the join token at $HUB and write $CONFIG and $CREDENTIAL (mode 0600)"
else
  mkdir -p "$ETC" "$VAR"
  chmod 0700 "$ETC"
  set -- agent enroll --hub "$HUB" --config "$CONFIG" --credential "$CREDENTIAL" --ca-file "$ETC/hub-ca.pem" --state-dir "$VAR/agent" --cache-dir "$VAR/cache"
  if [ -n "$NAME" ]; then set -- "$@" --name "$NAME"; fi
  if [ "$INSECURE" = 1 ]; then set -- "$@" --insecure; fi
  if [ -n "${FOUNDRY_NVIDIA_SMI:-}" ]; then set -- "$@" --nvidia-smi "$FOUNDRY_NVIDIA_SMI"; fi
  if ! FOUNDRY_JOIN_TOKEN=$JOIN "$NODE" "$RUNNER" "$@"; then
    rmdir "$ETC" "$VAR" 2>/dev/null || true
    die "enrollment failed (see above); nothing was installed"
  fi
  CHANGED="$CHANGED enrollment"
fi

# --- put the new bundle in place
if [ -n "$STAGE" ]; then
  rm -rf "$OPT/releases/$WANT"
  mv "$STAGE" "$OPT/releases/$WANT"
  STAGE=
  ln -sfn "releases/$WANT" "$OPT/current"
  printf '%s\n' "$WANT" >"$OPT/bundle.sha256"
  for old in "$OPT"/releases/*; do
    if [ "$old" != "$OPT/releases/$WANT" ]; then rm -rf "$old"; fi
  done
  say "installed agent bundle $WANT"
fi
# /usr/local/bin/foundry: a launcher that runs the CLI with the bundled runtime (the node has no node).
render_launcher() {
  cat <<EOF
#!/bin/sh
# FoundryCloud CLI, written by install.sh: the agent bundle with its own Node.js runtime.
exec "$RUNTIME" "$OPT/current/bin/foundry.js" "\$@"
EOF
}
render_launcher >"$TMP/launcher"
if [ "$DRY_RUN" = 0 ] && { [ -L "$LINK" ] || ! cmp -s "$TMP/launcher" "$LINK"; }; then
  mkdir -p "$(dirname "$LINK")"
  rm -f "$LINK"
  cp "$TMP/launcher" "$LINK"
  chmod 0755 "$LINK"
  CHANGED="$CHANGED launcher"
fi

# --- systemd
if [ "$NO_SYSTEMD" = 1 ]; then
  say "not installing a systemd unit (--no-systemd); run the agent with:"
  say "  $RUNTIME $OPT/current/bin/foundry.js agent run --config $CONFIG"
else
  render_unit >"$TMP/unit"
  if [ -f "$UNIT" ] && cmp -s "$TMP/unit" "$UNIT"; then
    :
  elif [ "$DRY_RUN" = 1 ]; then
    say "would write $UNIT"
  else
    mkdir -p "$(dirname "$UNIT")"
    cp "$TMP/unit" "$UNIT"
    chmod 0644 "$UNIT"
    CHANGED="$CHANGED unit"
    say "wrote $UNIT"
  fi
  if have_systemctl; then
    if [ -n "$CHANGED" ]; then
      run systemctl daemon-reload
      run systemctl enable foundry-agent.service
      run systemctl restart foundry-agent.service
      say "foundry-agent (re)started"
    elif ! systemctl is-active --quiet foundry-agent.service; then
      run systemctl enable --now foundry-agent.service
      say "foundry-agent started"
    fi
  elif [ -n "$PREFIX" ]; then
    say "installed under $PREFIX: systemctl not used"
  else
    say "systemctl not found: start the agent yourself (see --no-systemd)"
  fi
fi

if [ "$DRY_RUN" = 1 ]; then
  say "dry run: nothing was changed"
elif [ -z "$CHANGED" ]; then
  say "nothing changed"
else
  say "done (changed:$CHANGED)"
fi
