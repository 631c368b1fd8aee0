#!/usr/bin/env bash
# Runs `trellis demo` from a Debian package on this machine with .NET taken away: the host's root under a
# throwaway overlay (a tmpfs, in its own mount and network namespaces), /usr/share/dotnet and
# /usr/bin/dotnet deleted there, the package installed with dpkg, PATH without dotnet. Nothing reaches
# the real /usr; everything goes with the namespaces.
# Usage: sudo scripts/single-file-demo.sh trellis_VERSION_amd64.deb   (scripts/package-deb.sh writes it)
set -euo pipefail

[[ $EUID -eq 0 ]] || { echo "run as root: it mounts an overlay and creates network namespaces" >&2; exit 1; }
DEB=$(realpath "${1:?usage: scripts/single-file-demo.sh PACKAGE.deb}")

exec unshare --mount --net --propagation private --fork bash -euo pipefail -c '
  dir=$(mktemp -d /tmp/trl-demo-root.XXXXXX)
  trap "umount -R $dir 2>/dev/null || true; rmdir $dir" EXIT
  mount -t tmpfs tmpfs "$dir"
  mkdir -p "$dir/upper" "$dir/work" "$dir/root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$dir/root"
  mount -t proc proc "$dir/root/proc"
  mount --rbind /dev "$dir/root/dev"
  mount -t sysfs sysfs "$dir/root/sys"
  mount -t tmpfs tmpfs "$dir/root/run"
  mount -t tmpfs tmpfs "$dir/root/tmp"
  ip link set lo up
  cp "$1" "$dir/root/var/tmp/trellis.deb"
  chroot "$dir/root" sh -ec "
    rm -rf /usr/share/dotnet /usr/lib/dotnet /usr/bin/dotnet /root/.dotnet
    dpkg -i /var/tmp/trellis.deb >/dev/null
    cd /
    export PATH=/usr/sbin:/usr/bin:/sbin:/bin
    if command -v dotnet >/dev/null; then echo \"dotnet is still on PATH\" >&2; exit 1; fi
    trellis version
    trellis demo
  "
' demo "$DEB"
