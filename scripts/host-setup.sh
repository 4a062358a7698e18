#!/usr/bin/env bash
# Prepares this host for the integration tests (and for `npm start` with real runtimes):
# Podman with runc, no default ulimits and the netavark network backend, libvirtd and virtlogd running.
# Idempotent; needs root. `--check` changes nothing: it names what is missing (scripts/host-check.sh).
# See ../shared/HOST-NOTES.md for why each step is needed on these machines.
set -euo pipefail

if [ "${1:-}" = "--check" ]; then exec bash "$(dirname "$0")/host-check.sh"; fi

# Podman: crun fails on this host (cgroup v1/v2 hybrid); runc works. Default ulimits fail too. Pin the
# network backend: storage that already holds images keeps CNI otherwise (no name resolution).
mkdir -p /etc/containers
bash "$(dirname "$0")/containers-conf.sh" /etc/containers/containers.conf
echo "podman: $(podman --version 2>/dev/null || echo 'not installed')"
# The local test image (no registry is reachable here), in the default storage for `npm start` demos;
# the tests import it into their own private storage.
if command -v podman >/dev/null 2>&1 && [ -x /bin/busybox ] && ! podman image exists localhost/foundry-test:1; then
  echo "test image: $(bash "$(dirname "$0")/build-test-image.sh")"
fi

# libvirt/QEMU: libvirtd needs the libvirt-qemu user and kvm group, root-run guests without dynamic
# ownership (no systemd here), and its daemons started by hand.
if command -v libvirtd >/dev/null 2>&1; then
  groupadd -f -r kvm; groupadd -f libvirt-qemu  # -r: udev's postinst (nova-compute-kvm pulls it) refuses a non-system kvm group
  id libvirt-qemu >/dev/null 2>&1 || useradd -r -g kvm libvirt-qemu
  if ! grep -q '^dynamic_ownership = 0' /etc/libvirt/qemu.conf 2>/dev/null; then
    printf 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\n' >> /etc/libvirt/qemu.conf
  fi
  mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt/images
  pgrep -x virtlogd >/dev/null || virtlogd -d
  pgrep -x libvirtd >/dev/null || libvirtd -d
  for _ in $(seq 1 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
  echo "libvirt: $(virsh -c qemu:///system version --daemon 2>/dev/null | sed -n 1p || echo 'not answering')"
fi
