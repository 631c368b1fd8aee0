#!/usr/bin/env bash
# Builds the Debian package from a published single-file executable (scripts/publish.sh):
# /usr/bin/trellis, and where the platform's publish holds it the NativeAOT `trellis-node` (in
# /usr/lib/trellis beside the libsodium it loads, linked from /usr/bin; the daemon unit runs it, else
# `trellis daemon`), the systemd units of dist/systemd (started from /usr/bin), /etc/trellis/server.yaml
# (dist/server.example.yaml with every key but listen, public-url and data-dir commented out),
# /etc/trellis/relay.env, and the maintainer scripts of dist/debian (the trellis system user; purge
# deletes /var/lib/trellis*, remove keeps them).
# Usage: scripts/package-deb.sh PUBLISH_DIR [OUTPUT_DIR]   (PUBLISH_DIR holds linux-x64/ and/or linux-arm64/)
# Prints the path of each .deb it wrote.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PUBLISHED=$(realpath "${1:?usage: scripts/package-deb.sh PUBLISH_DIR [OUTPUT_DIR]}")
OUT=$(realpath -m "${2:-$PUBLISHED}")
mkdir -p "$OUT"

# The package's server.yaml: the example's top-level keys commented out (with their nested lines),
# except the few a first start needs.
commented_config() {
  awk -v keep='^(listen|public-url|data-dir):' '
    NR == 1 { print "# Installed by the trellis package. Set public-url (and listen, or tls-cert and tls-key) before"
              print "# `systemctl enable --now trellis-server`. Commented keys show example values, not always defaults."
              print "" }
    /^[^ #][^:]*:/ { active = ($0 ~ keep) }
    /^[ #]/ || /^$/ { if (/^  / && !active) { print "#" $0 } else { print }; next }
    { print (active ? "" : "# ") $0 }
  ' "$REPO/dist/server.example.yaml"
}

for rid in linux-x64 linux-arm64; do
  exe="$PUBLISHED/$rid/trellis"
  [ -f "$exe" ] || continue
  case $rid in
    linux-x64) arch=amd64 ;;
    linux-arm64) arch=arm64 ;;
  esac

  # The version as the executable reports it when it runs here; for another platform, the same sources.
  if [ "$rid" = linux-x64 ] && [ "$(uname -m)" = x86_64 ]; then
    extract=$(mktemp -d)
    reported=$(DOTNET_BUNDLE_EXTRACT_BASE_DIR=$extract "$exe" version)
    rm -rf "$extract"
    version=$(awk '$1 == "trellis" { print $2 }' <<< "$reported")
    commit=$(awk '$1 == "commit" { print $2 }' <<< "$reported")
  else
    version=$(sed -n 's#.*<VersionPrefix>\(.*\)</VersionPrefix>.*#\1#p' "$REPO/Directory.Build.props")
    commit=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
  fi
  debversion=$version
  [ "$commit" = unknown ] || debversion="$version+git${commit:0:12}"

  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  chmod 0755 "$root"
  install -D -m 0755 "$exe" "$root/usr/bin/trellis"
  node_daemon='s#/usr/bin/trellis-node daemon#/usr/bin/trellis daemon#'
  if [ -f "$PUBLISHED/$rid/trellis-node" ]; then
    # NativeAOT loads libsodium from the executable's own directory (the link resolved), not the system's.
    install -D -m 0755 "$PUBLISHED/$rid/trellis-node" "$root/usr/lib/trellis/trellis-node"
    install -m 0644 "$PUBLISHED/$rid/libsodium.so" "$root/usr/lib/trellis/libsodium.so"
    ln -s ../lib/trellis/trellis-node "$root/usr/bin/trellis-node"
    node_daemon='s#^##'
  fi
  for unit in "$REPO"/dist/systemd/*.service; do
    sed -e 's#/usr/local/bin/trellis#/usr/bin/trellis#g' -e "$node_daemon" "$unit" > "$root/tmp.unit"
    install -D -m 0644 "$root/tmp.unit" "$root/lib/systemd/system/$(basename "$unit")"
    rm "$root/tmp.unit"
  done
  install -d -m 0755 "$root/etc/trellis"
  commented_config > "$root/etc/trellis/server.yaml"
  chmod 0644 "$root/etc/trellis/server.yaml"
  install -m 0600 "$REPO/dist/debian/relay.env" "$root/etc/trellis/relay.env"
  install -D -m 0644 "$REPO/dist/server.example.yaml" "$root/usr/share/doc/trellis/server.example.yaml"

  install -d -m 0755 "$root/DEBIAN"
  for script in postinst prerm postrm; do
    install -m 0755 "$REPO/dist/debian/$script" "$root/DEBIAN/$script"
  done
  printf '/etc/trellis/server.yaml\n/etc/trellis/relay.env\n' > "$root/DEBIAN/conffiles"
  cat > "$root/DEBIAN/control" <<CONTROL
Package: trellis
Version: $debversion
Architecture: $arch
Maintainer: Trellis developers <trellis@localhost>
Section: net
Priority: optional
Depends: libc6, libstdc++6, libgcc-s1, libssl3 | libssl3t64, passwd
Recommends: wireguard-tools, nftables
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: self-hosted mesh VPN (WireGuard in userspace)
 trellis: the control server with its relay and STUN, standalone relays,
 and the node daemon that keeps a device in the mesh; trellis-node (where
 built): the node daemon and its verbs alone, compiled ahead of time.
 Systemd units for the three; none is enabled on install.
CONTROL

  deb="$OUT/trellis_${debversion}_${arch}.deb"
  # zstd: a fraction of xz's time for a 120 MB executable, and every supported dpkg reads it.
  dpkg-deb --root-owner-group -Zzstd --build "$root" "$deb" >/dev/null
  rm -rf "$root"
  trap - EXIT
  echo "$deb"
done
