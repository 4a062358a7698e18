#!/usr/bin/env bash
# Prepares this host for the integration tests (and for `npm start` with real runtimes):
# Podman with runc and no default ulimits, libvirtd and virtlogd running. Idempotent; needs root.
# See ../shared/HOST-NOTES.md for why each step is needed on these machines.
set -euo pipefail

# Podman: crun fails on this host (cgroup v1/v2 hybrid); runc works. Default ulimits fail too.
mkdir -p /etc/containers
if ! grep -q 'runtime = "runc"' /etc/containers/containers.conf 2>/dev/null; then
  cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
fi
echo "podman: $(podman --version 2>/dev/null || echo 'not installed')"
