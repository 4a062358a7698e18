#!/usr/bin/env bash
# Checks, without changing anything, that this host has what the integration tests and a node's Podman
# need; names each missing piece with what to install or run. Exit 0 when everything is there, 1 when
# something is missing. Also `scripts/host-setup.sh --check`. Honours CONTAINERS_CONF (and
# CONTAINERS_STORAGE_CONF) the way Podman does, so it checks the Podman configuration that will be used.
set -uo pipefail

missing=0
ok() { printf 'ok:      %s\n' "$1"; }
miss() { printf 'missing: %s: %s\n' "$1" "$2"; missing=1; }

# A command on PATH, or the package that provides it.
need_cmd() { # name package [what]
  if command -v "$1" >/dev/null 2>&1; then ok "$1"; else miss "${3:-$1}" "apt-get install -y --no-install-recommends $2"; fi
}

# The containers.conf files Podman reads: CONTAINERS_CONF alone when set, else the system ones in order.
conf_files() {
  if [ -n "${CONTAINERS_CONF:-}" ]; then printf '%s\n' "$CONTAINERS_CONF"; return; fi
  local f
  for f in /usr/share/containers/containers.conf /etc/containers/containers.conf /etc/containers/containers.conf.d/*.conf; do
    [ -f "$f" ] && printf '%s\n' "$f"
  done
}

# helper_binaries_dir of the last file that sets it (Podman's default list otherwise), one per line.
helper_dirs() {
  local dirs="" f d
  while IFS= read -r f; do
    d=$(awk '/^[[:space:]]*helper_binaries_dir[[:space:]]*=/ { on = 1; buf = "" }
             on { buf = buf $0; if ($0 ~ /\]/) { on = 0; last = buf } }
             END { n = split(last, parts, "\""); for (i = 2; i <= n; i += 2) print parts[i] }' "$f" 2>/dev/null)
    [ -n "$d" ] && dirs=$d
  done < <(conf_files)
  if [ -z "$dirs" ]; then dirs=$'/usr/local/libexec/podman\n/usr/local/lib/podman\n/usr/libexec/podman\n/usr/lib/podman'; fi
  printf '%s\n' "$dirs"
}

# A Podman helper binary: found in the helper dirs (and on PATH when Podman searches it there too).
need_helper() { # name package why also_path
  local d
  while IFS= read -r d; do
    if [ -x "$d/$1" ]; then ok "$1 ($d/$1)"; return; fi
  done < <(helper_dirs)
  if [ "$4" = yes ] && command -v "$1" >/dev/null 2>&1; then ok "$1 ($(command -v "$1"))"; return; fi
  miss "$1 ($3)" "apt-get install -y --no-install-recommends $2 (looked in: $(helper_dirs | paste -sd ' '))"
}

echo "--- podman"
need_cmd podman podman
need_cmd runc runc
need_helper catatonit catatonit "pause binary: without it 'podman pod create' fails" yes
need_helper netavark netavark "network backend" no
need_helper aardvark-dns aardvark-dns "name resolution on workspace networks" no
if command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ]; then ok "iptables (netavark's firewall tool)"; else
  miss "iptables (netavark sets up workspace networks with it: without it no container on a network starts)" "apt-get install -y --no-install-recommends iptables"
fi
if command -v podman >/dev/null 2>&1; then
  errf=$(mktemp)
  if info=$(podman info --format '{{.Host.NetworkBackend}} {{.Host.OCIRuntime.Name}}' 2>"$errf"); then
    backend=${info%% *} runtime=${info##* }
    if [ "$backend" = netavark ]; then ok "network backend netavark"; else
      miss "network backend netavark (podman uses '$backend': containers of one network cannot resolve each other by name)" \
        "install netavark and aardvark-dns, set [network] network_backend = \"netavark\" in containers.conf (sudo bash scripts/host-setup.sh does)"
    fi
    if [ "$runtime" = runc ]; then ok "oci runtime runc"; else
      miss "oci runtime runc (podman uses '$runtime', which fails on these hosts)" "set [engine] runtime = \"runc\" in containers.conf (sudo bash scripts/host-setup.sh does)"
    fi
  else
    miss "a working podman ($(tail -1 "$errf"))" "check containers.conf, then sudo bash scripts/host-setup.sh"
  fi
  rm -f "$errf"
fi
if [ -x /bin/busybox ]; then ok "busybox (test image)"; else miss "busybox (/bin/busybox, for the test image)" "apt-get install -y --no-install-recommends busybox-static"; fi

echo "--- libvirt"
need_cmd virsh libvirt-clients
need_cmd libvirtd "libvirt-daemon libvirt-daemon-driver-qemu"
need_cmd qemu-system-x86_64 qemu-system-x86
need_cmd qemu-img qemu-utils
need_cmd genisoimage genisoimage
if command -v virsh >/dev/null 2>&1 && virsh -c qemu:///system version >/dev/null 2>&1; then ok "libvirtd answering on qemu:///system"; else
  miss "libvirtd answering on qemu:///system" "install the libvirt packages, then sudo bash scripts/host-setup.sh (starts libvirtd and virtlogd)"
fi

echo "--- other tools the tests use"
need_cmd git git
need_cmd chromium chromium
need_cmd shellcheck shellcheck
need_cmd systemd-analyze systemd
need_cmd openssl openssl
need_cmd curl curl
need_cmd gpg gnupg
need_cmd ssh-keygen openssh-client
need_cmd ip iproute2
need_cmd tc iproute2
need_cmd nft nftables
need_cmd pgrep procps
need_cmd age age
need_cmd debootstrap debootstrap
need_cmd lighttpd lighttpd
need_cmd ansible-pull ansible
need_cmd prometheus prometheus
need_cmd promtool prometheus

if [ "$missing" -ne 0 ]; then echo "host check: something is missing (see the lines above)" >&2; exit 1; fi
echo "host check: everything is there"
