#!/bin/sh
# FoundryCloud hub installer. On the hub machine, as root, from a built checkout (npm ci && npm run build):
#   sudo ./install-hub.sh --public-url https://hub.example.eu
# or with a hub bundle built elsewhere (node scripts/build-hub-bundle.mjs DIR):
#   sudo sh install-hub.sh --bundle foundry-hub.tgz
#
# It creates the system user foundry-hub, the data dir /var/lib/foundry-hub (hub.db, the hosted infra.git,
# keys, backups), /etc/foundry-hub/hub.env (mode 0600: the hub's options, and secrets such as
# FOUNDRY_HUB_WEBHOOK_SECRET), installs the bundle (it carries its own Node.js runtime) into
# /opt/foundry-hub/releases/SHA256, the launcher /usr/local/bin/foundry-hub and a hardened systemd unit,
# and starts it. Running it again changes and restarts nothing unless something changed. An upgrade keeps
# the previous release for a rollback; the hub backs hub.db up and migrates it when it starts. A bundle
# older than the database (a downgrade) is refused before anything changes. See docs/hub-install.md.
set -eu

PROG=install-hub.sh
BUNDLE=
HOST=
PORT=
PUBLIC_URL=
TRUST_PROXY=
TLS_CERT=
TLS_KEY=
PREFIX=
NO_SYSTEMD=0
INSTALL_DEPS=0
UNINSTALL=0
PURGE=0
DRY_RUN=0
PRINT_UNIT=0
HUB_USER=
HUB_GROUP=
# What the hub runs besides its own runtime: git (hosted repo), ssh-keygen (signed commits), tar and gzip (bundles).
HUB_PACKAGES="git openssh-client tar gzip ca-certificates"

usage() {
  cat <<'EOF'
usage: install-hub.sh [options]
       install-hub.sh --uninstall [--purge] [--prefix DIR]

  --bundle FILE       the hub bundle to install (foundry-hub.tgz from scripts/build-hub-bundle.mjs; a
                      FILE.sha256 beside it is checked); default: build it from the checkout this script
                      is in (needs node >= 20.19 and npm ci && npm run build there)
  --host ADDR         address the hub listens on (default 127.0.0.1: behind a proxy on this machine)
  --port N            port it listens on (default 8080; 443 for direct TLS; 0: any free port)
  --public-url URL    URL nodes and browsers reach the hub at (https://hub.example.eu)
  --trust-proxy LIST  addresses of the reverse proxies whose X-Forwarded-For the hub believes
                      (127.0.0.1,::1 for a proxy on this machine)
  --tls-cert FILE     PEM certificate: the hub serves https and wss itself (with --tls-key)
  --tls-key FILE      PEM private key of the certificate (readable by the foundry-hub group)
                      (--host ... --tls-key go into /etc/foundry-hub/hub.env on the first install;
                      later, edit that file and restart the hub)
  --user NAME         the user the hub runs as (default foundry-hub, created when missing; with
                      --prefix: none unless given, and then it must exist)
  --install-deps      install the packages the hub calls (git openssh-client tar gzip ca-certificates)
                      with apt-get or dnf; Node.js comes with the bundle
  --no-systemd        do not install the systemd unit; print how to run the hub in the foreground
  --dry-run           print what would be done and change nothing
  --prefix DIR        install under DIR instead of / (tests, images): no root, no user, no systemctl
  --uninstall         remove the hub's program, launcher, unit and hub.env (the data dir is kept)
  --purge             with --uninstall: also remove /var/lib/foundry-hub and the foundry-hub user
  --print-unit        print the systemd unit this would install and exit
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
    --bundle) need_arg "$1" $#; BUNDLE=$2; shift 2 ;;
    --bundle=*) BUNDLE=${1#*=}; shift ;;
    --host) need_arg "$1" $#; HOST=$2; shift 2 ;;
    --host=*) HOST=${1#*=}; shift ;;
    --port) need_arg "$1" $#; PORT=$2; shift 2 ;;
    --port=*) PORT=${1#*=}; shift ;;
    --public-url) need_arg "$1" $#; PUBLIC_URL=$2; shift 2 ;;
    --public-url=*) PUBLIC_URL=${1#*=}; shift ;;
    --trust-proxy) need_arg "$1" $#; TRUST_PROXY=$2; shift 2 ;;
    --trust-proxy=*) TRUST_PROXY=${1#*=}; shift ;;
    --tls-cert) need_arg "$1" $#; TLS_CERT=$2; shift 2 ;;
    --tls-cert=*) TLS_CERT=${1#*=}; shift ;;
    --tls-key) need_arg "$1" $#; TLS_KEY=$2; shift 2 ;;
    --tls-key=*) TLS_KEY=${1#*=}; shift ;;
    --user) need_arg "$1" $#; HUB_USER=$2; shift 2 ;;
    --user=*) HUB_USER=${1#*=}; shift ;;
    --prefix) need_arg "$1" $#; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --no-systemd) NO_SYSTEMD=1; shift ;;
    --install-deps) INSTALL_DEPS=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --purge) PURGE=1; shift ;;
    --print-unit) PRINT_UNIT=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

if [ -n "$PREFIX" ]; then
  case "$PREFIX" in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac
  PREFIX=${PREFIX%/}
elif [ -z "$HUB_USER" ]; then
  HUB_USER=foundry-hub
fi
case "$HUB_USER" in
  *[!a-z0-9_-]*) die "--user $HUB_USER: expected a user name (lowercase letters, digits, _ and -)" ;;
esac

OPT=$PREFIX/opt/foundry-hub
ETC=$PREFIX/etc/foundry-hub
VAR=$PREFIX/var/lib/foundry-hub
ENV_FILE=$ETC/hub.env
UNIT=$PREFIX/etc/systemd/system/foundry-hub.service
LAUNCHER=$PREFIX/usr/local/bin/foundry-hub
RUNTIME=$OPT/current/runtime/bin/node
CLI=$OPT/current/bin/foundry.js

# Runs a command, or only prints it with --dry-run.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    say "would run: $*"
  else
    "$@"
  fi
}

# The unit: an unprivileged user, everything read-only but the data dir; port 443 without root through
# CAP_NET_BIND_SERVICE only. No MemoryDenyWriteExecute: V8's JIT needs writable executable memory. A system
# call outside @system-service fails with EPERM instead of killing the hub (libuv falls back, e.g. from
# io_uring). One socket per connected agent: LimitNOFILE is far above the default 1024.
render_unit() {
  cat <<EOF
# FoundryCloud hub, installed by install-hub.sh. Edits are overwritten by the next install:
# put the hub's options into $ENV_FILE (FOUNDRY_HUB_OPTS) or a drop-in (systemctl edit foundry-hub).
[Unit]
Description=FoundryCloud hub
Documentation=https://github.com/foundrycloud/foundrycloud/blob/main/docs/hub-install.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=${HUB_USER:-foundry-hub}
Group=${HUB_GROUP:-foundry-hub}
Environment=NODE_ENV=production
Environment=FOUNDRY_HUB_DATA_DIR=$VAR
EnvironmentFile=$ENV_FILE
ExecStart=$RUNTIME $CLI hub start \$FOUNDRY_HUB_OPTS
Restart=always
RestartSec=5
TimeoutStopSec=30
LimitNOFILE=65536
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$VAR
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=CAP_NET_BIND_SERVICE
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6

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
    run systemctl disable --now foundry-hub.service || true
  fi
  for p in "$UNIT" "$LAUNCHER" "$OPT" "$ENV_FILE"; do
    if [ -e "$p" ] || [ -L "$p" ]; then
      say "removing $p"
      run rm -rf "$p"
    fi
  done
  if [ "$DRY_RUN" = 0 ]; then rmdir "$ETC" 2>/dev/null || true; fi
  if [ -e "$ETC" ]; then say "kept $ETC (it holds more than hub.env: your certificates?)"; fi
  if have_systemctl; then run systemctl daemon-reload || true; fi
  if [ "$PURGE" = 1 ] && [ -e "$VAR" ]; then
    say "removing $VAR (--purge: hub.db, the hosted infra repo, the hub's keys and backups)"
    run rm -rf "$VAR"
  elif [ -e "$VAR" ]; then
    say "kept $VAR (hub.db, the hosted infra repo, keys, backups; --purge removes it)"
  fi
  if [ "$PURGE" = 1 ] && [ -z "$PREFIX" ] && id "$HUB_USER" >/dev/null 2>&1; then
    run userdel "$HUB_USER"
  fi
  if [ -n "$PREFIX" ] && [ "$DRY_RUN" = 0 ]; then
    for d in "$PREFIX/etc/systemd/system" "$PREFIX/etc/systemd" "$PREFIX/etc" "$PREFIX/usr/local/bin" "$PREFIX/usr/local" "$PREFIX/usr" "$PREFIX/opt" "$PREFIX/var/lib" "$PREFIX/var"; do
      rmdir "$d" 2>/dev/null || true
    done
  fi
  say "uninstalled${PREFIX:+ from $PREFIX}"
}

if [ "$UNINSTALL" = 1 ]; then
  uninstall
  exit 0
fi

# --- the options that go into hub.env: checked here, so the hub never starts on a half-written file
check_value() {
  case "$2" in
    *[!]A-Za-z0-9:/._%@~+=,[-]*) die "$1 $2: unexpected characters (allowed: letters, digits and :/._%@~+=,-[])" ;;
  esac
}
if [ -n "$HOST" ]; then check_value --host "$HOST"; fi
if [ -n "$PORT" ]; then
  case "$PORT" in
    *[!0-9]* | ??????*) die "--port $PORT: expected a number from 0 (any free port) to 65535" ;;
  esac
  if [ "$PORT" -gt 65535 ]; then die "--port $PORT: expected a number from 0 (any free port) to 65535"; fi
fi
if [ -n "$TRUST_PROXY" ]; then check_value --trust-proxy "$TRUST_PROXY"; fi
if [ -n "$PUBLIC_URL" ]; then
  check_value --public-url "$PUBLIC_URL"
  case "$PUBLIC_URL" in
    https://?* | http://?*) ;;
    *) die "--public-url $PUBLIC_URL: expected https://HOST (or http:// on a trusted network)" ;;
  esac
fi
if [ -n "$TLS_CERT$TLS_KEY" ]; then
  if [ -z "$TLS_CERT" ] || [ -z "$TLS_KEY" ]; then die "direct TLS needs both --tls-cert and --tls-key"; fi
  for f in "$TLS_CERT" "$TLS_KEY"; do
    check_value "a TLS file" "$f"
    case "$f" in /*) ;; *) die "$f: give the TLS files as absolute paths (the service does not run in this folder)" ;; esac
    [ -r "$f" ] || die "cannot read $f"
  done
fi

if [ -z "$PREFIX" ] && [ "$(id -u)" != 0 ]; then
  die "run as root: sudo $0 ... (or --prefix DIR for a private install)"
fi

missing_tools() {
  out=
  for t in tar gzip sha256sum git ssh-keygen; do
    command -v "$t" >/dev/null 2>&1 || out="$out $t"
  done
  if [ -n "$HUB_USER" ]; then
    for t in setpriv useradd; do command -v "$t" >/dev/null 2>&1 || out="$out $t"; done
  fi
  printf '%s' "$out"
}
# Installs HUB_PACKAGES (already installed ones are left as they are).
install_packages() {
  say "installing the hub's packages: $HUB_PACKAGES"
  # HUB_PACKAGES is split into words on purpose: one package each.
  # shellcheck disable=SC2086
  if command -v apt-get >/dev/null 2>&1; then
    run apt-get update -qq
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $HUB_PACKAGES
  elif command -v dnf >/dev/null 2>&1; then
    run dnf install -y -q --setopt=install_weak_deps=False git openssh-clients tar gzip ca-certificates
  else
    die "--install-deps knows apt-get and dnf only: install $HUB_PACKAGES yourself"
  fi
}
if [ "$INSTALL_DEPS" = 1 ]; then install_packages; fi
MISSING=$(missing_tools)
if [ -n "$MISSING" ] && { [ "$DRY_RUN" = 0 ] || [ "$INSTALL_DEPS" = 0 ]; }; then
  die "missing prerequisites:$MISSING (rerun with --install-deps, or: apt-get install -y --no-install-recommends $HUB_PACKAGES)"
fi
if [ -n "$HUB_USER" ] && [ "$(id -u)" != 0 ]; then die "--user $HUB_USER needs root (the hub's commands run as that user)"; fi
if [ -n "$HUB_USER" ] && ! id "$HUB_USER" >/dev/null 2>&1 && [ -n "$PREFIX" ]; then die "no user $HUB_USER (with --prefix, --user names an existing user)"; fi
if [ -n "$HUB_USER" ] && id "$HUB_USER" >/dev/null 2>&1; then HUB_GROUP=$(id -gn "$HUB_USER"); fi
CHANGED=

TMP=$(mktemp -d "${TMPDIR:-/tmp}/foundry-hub-install.XXXXXX")
STAGE=
cleanup() {
  rm -rf "$TMP"
  if [ -n "$STAGE" ]; then
    rm -rf "$STAGE"
    # A first install that failed leaves no empty folders behind.
    rmdir "$OPT/releases" "$OPT" 2>/dev/null || true
    if [ -n "$PREFIX" ]; then rmdir "$PREFIX/opt" "$PREFIX" 2>/dev/null || true; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the bundle: given, or built from this checkout with the node on PATH (it then carries that runtime)
if [ -z "$BUNDLE" ]; then
  SRC=$(cd "$(dirname "$0")" && pwd)
  if [ ! -f "$SRC/dist/cli/foundry.js" ] || [ ! -f "$SRC/scripts/build-hub-bundle.mjs" ]; then
    die "$SRC is not a built checkout: run npm ci && npm run build there, or pass --bundle FILE"
  fi
  command -v node >/dev/null 2>&1 || die "building the hub bundle from $SRC needs node >= 20.19 on PATH (or pass --bundle FILE)"
  say "building the hub bundle from $SRC with $(command -v node) ($(node --version))"
  node "$SRC/scripts/build-hub-bundle.mjs" "$SRC/.foundry/hub-bundle" >"$TMP/built" || die "cannot build the hub bundle from $SRC (see above)"
  BUNDLE=$(head -n 1 "$TMP/built")
fi
[ -f "$BUNDLE" ] || die "no hub bundle at $BUNDLE"
SHA=$(sha256sum "$BUNDLE" | cut -d ' ' -f 1)
if [ -f "$BUNDLE.sha256" ]; then
  WANT=$(cut -c1-64 "$BUNDLE.sha256")
  [ "$SHA" = "$WANT" ] || die "hub bundle checksum mismatch (got $SHA, $BUNDLE.sha256 says $WANT): refusing to install it"
fi
SHORT=$(printf '%s' "$SHA" | cut -c1-12)

# Runs the staged or installed CLI as the hub's user (so files it creates keep the hub's owner).
as_hub() {
  if [ -n "$HUB_USER" ]; then
    FOUNDRY_HUB_DATA_DIR=$VAR setpriv --reuid="$HUB_USER" --regid="$HUB_GROUP" --init-groups -- "$@"
  else
    FOUNDRY_HUB_DATA_DIR=$VAR "$@"
  fi
}

# --- the release: unpacked and checked beside the running one, then the schema check, then the switch
RELEASE=$OPT/releases/$SHA
if [ -f "$RELEASE/bin/foundry.js" ] && [ -x "$RELEASE/runtime/bin/node" ]; then
  NEW=$RELEASE
elif [ "$DRY_RUN" = 1 ]; then
  say "would unpack $BUNDLE into $RELEASE"
  NEW=
else
  mkdir -p "$OPT/releases"
  STAGE=$OPT/releases/.stage-$$
  rm -rf "$STAGE"
  mkdir -p "$STAGE"
  tar -xzf "$BUNDLE" -C "$STAGE" --no-same-owner || die "cannot unpack the hub bundle $BUNDLE"
  if [ ! -f "$STAGE/bin/foundry.js" ] || [ ! -x "$STAGE/runtime/bin/node" ] || [ ! -f "$STAGE/hub/dashboard/ui/index.html" ]; then
    die "$BUNDLE is not a hub bundle (no bin/foundry.js, runtime/bin/node or hub/dashboard/ui): build it with scripts/build-hub-bundle.mjs"
  fi
  chmod -R go-w "$STAGE"
  chmod 0755 "$STAGE"
  if ! CHECK=$("$STAGE/runtime/bin/node" "$STAGE/runtime/check.cjs" 2>&1); then
    die "the hub bundle's Node.js runtime does not run on this machine: $(printf '%s\n' "$CHECK" | grep -m 1 -i 'error' || printf '%s\n' "$CHECK" | head -n 1)"
  fi
  say "bundled runtime: $CHECK"
  NEW=$STAGE
fi

# A database a newer release migrated is refused here, before the switch: the running hub stays as it is.
if [ -n "$NEW" ] && [ -f "$VAR/hub.db" ]; then
  if ! as_hub "$NEW/runtime/bin/node" "$NEW/bin/foundry.js" hub schema status >"$TMP/schema" 2>"$TMP/schema.err"; then
    die "refusing to install hub bundle $SHORT: $(sed -e 's/^foundry: //' "$TMP/schema.err" | head -n 1)"
  fi
  PENDING=$(sed -n 's/^pending: //p' "$TMP/schema")
  if [ "$PENDING" != none ]; then say "the hub applies these migrations when it starts (after a backup of hub.db): $PENDING"; fi
fi

# --- the user and the folders (the data dir belongs to the hub; hub.env to root)
if [ -n "$HUB_USER" ] && ! id "$HUB_USER" >/dev/null 2>&1; then
  say "creating the system user $HUB_USER"
  # A group of that name made beforehand (e.g. to give it the TLS key first) becomes the user's group.
  if getent group "$HUB_USER" >/dev/null 2>&1; then GROUP_OPT="--gid=$HUB_USER"; else GROUP_OPT=--user-group; fi
  run useradd --system "$GROUP_OPT" --home-dir "$VAR" --no-create-home --shell /usr/sbin/nologin --comment "FoundryCloud hub" "$HUB_USER"
fi
if [ -n "$HUB_USER" ] && id "$HUB_USER" >/dev/null 2>&1; then HUB_GROUP=$(id -gn "$HUB_USER"); fi
if [ "$DRY_RUN" = 0 ]; then
  if [ ! -d "$VAR" ]; then
    mkdir -p "$VAR"
    CHANGED="$CHANGED data-dir"
  fi
  chmod 0750 "$VAR"
  if [ -n "$HUB_USER" ]; then chown "$HUB_USER:$HUB_GROUP" "$VAR"; fi
  mkdir -p "$ETC"
  chmod 0750 "$ETC"
  if [ -n "$HUB_USER" ]; then chown "root:$HUB_GROUP" "$ETC"; fi
fi

# --- hub.env: written once; later runs keep the operator's edits
render_env() {
  opts="--host ${HOST:-127.0.0.1} --port ${PORT:-8080}"
  if [ -n "$PUBLIC_URL" ]; then opts="$opts --public-url $PUBLIC_URL"; fi
  if [ -n "$TRUST_PROXY" ]; then opts="$opts --trust-proxy $TRUST_PROXY"; fi
  if [ -n "$TLS_CERT" ]; then opts="$opts --tls-cert $TLS_CERT --tls-key $TLS_KEY"; fi
  cat <<EOF
# FoundryCloud hub settings, read by foundry-hub.service (EnvironmentFile) and by \`foundry-hub start\`.
# Mode 0600, owned by root: it may hold secrets. Written by install-hub.sh on the first install and never
# overwritten; restart the hub after an edit. Every option of \`foundry hub start --help\` may go here.
FOUNDRY_HUB_OPTS="$opts"
# FOUNDRY_HUB_WEBHOOK_SECRET=...     the external repo's push webhook secret (with --repo-url)
# FOUNDRY_HUB_REPO_CREDENTIAL=...    the hub's credential for --repo-url (USER:TOKEN or a bearer token)
EOF
}
if [ -f "$ENV_FILE" ]; then
  if [ -n "$HOST$PORT$PUBLIC_URL$TRUST_PROXY$TLS_CERT" ]; then say "kept $ENV_FILE as it is: edit FOUNDRY_HUB_OPTS there to change the hub's options"; fi
elif [ "$DRY_RUN" = 1 ]; then
  say "would write $ENV_FILE (mode 0600): FOUNDRY_HUB_OPTS=\"--host ${HOST:-127.0.0.1} --port ${PORT:-8080}...\""
else
  (umask 077 && render_env >"$ENV_FILE.tmp")
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  CHANGED="$CHANGED hub.env"
  say "wrote $ENV_FILE (mode 0600)"
fi

# --- the switch: the new release becomes current, the one before stays as previous (a rollback target)
CURRENT=
if [ -L "$OPT/current" ]; then CURRENT=$(readlink "$OPT/current"); fi
if [ -n "$STAGE" ]; then
  rm -rf "$RELEASE"
  mv "$STAGE" "$RELEASE"
  STAGE=
  CHANGED="$CHANGED release"
fi
if [ "$CURRENT" != "releases/$SHA" ]; then
  if [ "$DRY_RUN" = 1 ]; then
    say "would make release $SHORT current${CURRENT:+ (keeping ${CURRENT#releases/} as the previous one)}"
  else
    if [ -n "$CURRENT" ]; then ln -sfn "$CURRENT" "$OPT/previous"; fi
    ln -sfn "releases/$SHA" "$OPT/current"
    CHANGED="$CHANGED current"
    say "installed hub release $SHORT${CURRENT:+ (previous: $(printf '%s' "${CURRENT#releases/}" | cut -c1-12))}"
  fi
else
  say "hub release $SHORT already installed"
fi
# Keep the current and the previous release (a rollback target), nothing else.
if [ "$DRY_RUN" = 0 ] && [ -d "$OPT/releases" ]; then
  PREVIOUS=
  if [ -L "$OPT/previous" ]; then PREVIOUS=$(readlink "$OPT/previous"); fi
  for old in "$OPT"/releases/*; do
    [ -e "$old" ] || continue
    case "releases/${old##*/}" in
      "releases/$SHA" | "$PREVIOUS") ;;
      *) rm -rf "$old" ;;
    esac
  done
fi

# --- the launcher: `foundry-hub start` (foreground) and `foundry-hub ARGS` (admin commands)
render_launcher() {
  cat <<EOF
#!/bin/sh
# FoundryCloud hub, written by install-hub.sh. \`foundry-hub start\` runs the hub in the foreground with the
# options in $ENV_FILE (what foundry-hub.service runs); \`foundry-hub ARGS\` runs \`foundry hub ARGS\` on the
# hub's data dir (schema status, admin-token create, token create, ...). As root it runs them as $HUB_USER.
set -eu
[ -r "$ENV_FILE" ] || { echo "foundry-hub: cannot read $ENV_FILE (mode 0600, root's): run as root" >&2; exit 1; }
set -a
# shellcheck disable=SC1090,SC1091
. "$ENV_FILE"
set +a
umask 077
USER_NAME=$HUB_USER
FOUNDRY_HUB_DATA_DIR=$VAR
NODE_ENV=production
export FOUNDRY_HUB_DATA_DIR NODE_ENV
# As the unit does: the data dir is the hub user's home (git reads its config there).
if [ -n "\$USER_NAME" ]; then HOME=$VAR; export HOME; fi
if [ "\${1:-}" = start ]; then
  shift
  # FOUNDRY_HUB_OPTS holds several options: split into words on purpose.
  # shellcheck disable=SC2086
  set -- start \${FOUNDRY_HUB_OPTS:-} "\$@"
fi
if [ -n "\$USER_NAME" ] && [ "\$(id -u)" = 0 ]; then
  exec setpriv --reuid="\$USER_NAME" --regid="$HUB_GROUP" --init-groups -- "$RUNTIME" "$CLI" hub "\$@"
fi
exec "$RUNTIME" "$CLI" hub "\$@"
EOF
}
render_launcher >"$TMP/launcher"
if [ -f "$LAUNCHER" ] && cmp -s "$TMP/launcher" "$LAUNCHER"; then
  :
elif [ "$DRY_RUN" = 1 ]; then
  say "would write $LAUNCHER"
else
  mkdir -p "$(dirname "$LAUNCHER")"
  cp "$TMP/launcher" "$LAUNCHER.tmp"
  chmod 0755 "$LAUNCHER.tmp"
  mv "$LAUNCHER.tmp" "$LAUNCHER"
  CHANGED="$CHANGED launcher"
fi

# --- systemd
if [ "$NO_SYSTEMD" = 1 ]; then
  say "not installing a systemd unit (--no-systemd); run the hub in the foreground with:"
  say "  $LAUNCHER start"
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
      run systemctl enable foundry-hub.service
      run systemctl restart foundry-hub.service
      say "foundry-hub (re)started: journalctl -u foundry-hub shows its log"
    elif ! systemctl is-active --quiet foundry-hub.service; then
      run systemctl enable --now foundry-hub.service
      say "foundry-hub started"
    fi
  elif [ -n "$PREFIX" ]; then
    say "installed under $PREFIX: systemctl not used"
  else
    say "systemctl not found: start the hub yourself with $LAUNCHER start"
  fi
fi

if [ "$DRY_RUN" = 1 ]; then
  say "dry run: nothing was changed"
elif [ -z "$CHANGED" ]; then
  say "nothing changed"
else
  say "done (changed:$CHANGED)"
fi
