#!/usr/bin/env bash
# Builds the Trellis container image (dist/container/Containerfile) with podman, offline: the image is
# the single-file executable plus the system libraries it loads, copied from this (Debian) machine.
# Usage: scripts/container-image.sh PUBLISHED_EXECUTABLE [TAG]   (TAG default localhost/trellis:latest)
# e.g. scripts/publish.sh && scripts/container-image.sh artifacts/publish/linux-x64/trellis
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EXE=$(realpath "${1:?usage: scripts/container-image.sh PUBLISHED_EXECUTABLE [TAG]}")
TAG=${2:-localhost/trellis:latest}
CONTEXT=$(mktemp -d)
trap 'rm -rf "$CONTEXT"' EXIT
ROOTFS=$CONTEXT/rootfs

# Copies each library to the same path under the image's root.
copy_libraries() {
  local lib
  for lib in "$@"; do
    mkdir -p "$ROOTFS$(dirname "$lib")"
    cp -L "$lib" "$ROOTFS$lib"
  done
}

# What the runtime and the unpacked native libraries link against, plus OpenSSL, which .NET loads by name
# (ldd does not see it) for TLS and the data path's ciphers.
unpacked=$(mktemp -d)
DOTNET_BUNDLE_EXTRACT_BASE_DIR=$unpacked "$EXE" version >/dev/null
mapfile -t natives < <(find "$unpacked" -name '*.so*' -type f)
ssl=$(ldconfig -p | awk '/libssl\.so\.3 .*x86-64|libssl\.so\.3 .*AArch64/ { print $NF; exit }')
crypto=$(ldconfig -p | awk '/libcrypto\.so\.3 .*x86-64|libcrypto\.so\.3 .*AArch64/ { print $NF; exit }')
mapfile -t needed < <(ldd "$EXE" "${natives[@]}" "$ssl" "$crypto" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(0x/ { print $1 }' | sort -u)
copy_libraries "${needed[@]}" "$ssl" "$crypto"
rm -rf "$unpacked"

mkdir -p "$ROOTFS/etc/ssl" "$ROOTFS/etc/trellis" "$ROOTFS/tmp" "$CONTEXT/data/trellis" "$CONTEXT/data/trellis-relay"
cp -rL /etc/ssl/certs "$ROOTFS/etc/ssl/certs"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ntrellis:x:999:999:Trellis:/var/lib/trellis:/usr/sbin/nologin\n' > "$ROOTFS/etc/passwd"
printf 'root:x:0:\ntrellis:x:999:\n' > "$ROOTFS/etc/group"
printf 'hosts: files dns\n' > "$ROOTFS/etc/nsswitch.conf"
cp "$REPO/dist/container/server.yaml" "$ROOTFS/etc/trellis/server.yaml"
chmod 1777 "$ROOTFS/tmp"
chmod 0700 "$CONTEXT/data/trellis" "$CONTEXT/data/trellis-relay"
cp "$EXE" "$CONTEXT/trellis"

podman build --quiet -f "$REPO/dist/container/Containerfile" -t "$TAG" "$CONTEXT" >/dev/null
echo "$TAG: $(podman image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.1f MiB", $1 / 1048576 }')"
