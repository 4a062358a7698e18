#!/usr/bin/env bash
# Builds the local test image localhost/foundry-test:1 from busybox-static (no registry is reachable
# here, see ../shared/HOST-NOTES.md): a root filesystem with bin/busybox and a symlink per applet.
#
#   scripts/build-test-image.sh                 build the tarball and `podman import` it (default storage)
#   scripts/build-test-image.sh --tar OUT.tar   only write the tarball (tests import it into private storage)
#
# Extra podman flags (e.g. --root/--runroot) can follow `--`: scripts/build-test-image.sh -- --root /x
set -euo pipefail

IMAGE="localhost/foundry-test:1"
tar_out=""
podman_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tar) tar_out="$2"; shift 2 ;;
    --) shift; podman_flags=("$@"); break ;;
    *) echo "usage: $0 [--tar OUT.tar] [-- PODMAN_FLAGS...]" >&2; exit 2 ;;
  esac
done

busybox_bin="$(command -v busybox || true)"
if [ -z "$busybox_bin" ] || ! file -L "$busybox_bin" 2>/dev/null | grep -q 'statically linked'; then
  # `file` may be missing; fall back to the Debian package's path.
  if [ -x /bin/busybox ]; then busybox_bin=/bin/busybox; else
    echo "build-test-image: busybox-static is not installed (apt-get install -y busybox-static)" >&2; exit 3
  fi
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www" "$root/data" "$root/dev" "$root/proc" "$root/sys"
cp "$busybox_bin" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$root/etc/group"
echo 'foundry test page' > "$root/www/index.html"
chmod 1777 "$root/tmp"

if [ -n "$tar_out" ]; then
  # Written next to the target and renamed, so concurrent builders never see a half-written file.
  tmp_tar="$tar_out.tmp.$$"
  tar --owner=0 --group=0 -C "$root" -cf "$tmp_tar" .
  mv -f "$tmp_tar" "$tar_out"
  echo "$tar_out"
  exit 0
fi

tar --owner=0 --group=0 -C "$root" -cf "$work/img.tar" .
podman "${podman_flags[@]}" import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$work/img.tar" "$IMAGE" >/dev/null
echo "$IMAGE"
