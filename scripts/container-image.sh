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

copy_with_dependencies() {
  local lib
  for lib in "$@" $(ldd "$@" 2>/dev/null | awk '/=> \// { print $3 } /^\s*\/lib/ { print $1 }' | sort -u); do
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
copy_with_dependencies "$EXE" "${natives[@]}" "$ssl" "$crypto"
copy_with_dependencies "$(dirname "$(realpath "$ssl")")"/ossl-modules/legacy.so 2>/dev/null || true
rm -rf "$unpacked"
# The libraries found by the bundle were copied to their own paths; they are unpacked again at start.
rm -rf "$ROOTFS$unpacked"

mkdir -p "$ROOTFS/etc/ssl" "$ROOTFS/etc/trellis" "$ROOTFS/tmp" "$ROOTFS/var/lib/trellis" "$ROOTFS/var/lib/trellis-relay"
cp -rL /etc/ssl/certs "$ROOTFS/etc/ssl/certs"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ntrellis:x:999:999:Trellis:/var/lib/trellis:/usr/sbin/nologin\n' > "$ROOTFS/etc/passwd"
printf 'root:x:0:\ntrellis:x:999:\n' > "$ROOTFS/etc/group"
printf 'hosts: files dns\n' > "$ROOTFS/etc/nsswitch.conf"
cp "$REPO/dist/container/server.yaml" "$ROOTFS/etc/trellis/server.yaml"
chmod 1777 "$ROOTFS/tmp"
chown 999:999 "$ROOTFS/var/lib/trellis" "$ROOTFS/var/lib/trellis-relay"
chmod 0700 "$ROOTFS/var/lib/trellis" "$ROOTFS/var/lib/trellis-relay"
cp "$EXE" "$CONTEXT/trellis"

podman build --quiet -f "$REPO/dist/container/Containerfile" -t "$TAG" "$CONTEXT" >/dev/null
echo "$TAG: $(podman image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.1f MiB", $1 / 1048576 }')"
