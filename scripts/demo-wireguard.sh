#!/usr/bin/env bash
# Demo of what Trellis does today: a userspace WireGuard device (`trellis wireguard`) talking to
# Debian's wireguard-go, each in its own network namespace, configured with the stock wg(8) and ip(8).
# It builds Trellis, installs nothing, and removes everything it made on exit (also on Ctrl-C).
# Usage: sudo scripts/demo-wireguard.sh
set -euo pipefail

[[ $EUID -eq 0 ]] || { echo "run as root: it creates network namespaces and TUN devices" >&2; exit 1; }
for tool in ip wg wireguard-go ping dotnet; do
  command -v "$tool" >/dev/null || { echo "'$tool' is missing (apt-get install -y wireguard-go wireguard-tools iproute2 iputils-ping)" >&2; exit 1; }
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NS_T="trl-demo-$$-t"
NS_G="trl-demo-$$-g"
IF_T="trd$$t"
IF_G="trd$$g"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$NS_T" 2>/dev/null || true
  ip netns del "$NS_G" 2>/dev/null || true
  rm -f "/var/run/wireguard/$IF_T.sock" "/var/run/wireguard/$IF_G.sock"
}
trap cleanup EXIT INT TERM

echo "== building trellis"
dotnet build -c Release -v quiet -nologo "$REPO/src/Trellis.Cli" >/dev/null
TRELLIS="$REPO/src/Trellis.Cli/bin/Release/net10.0/trellis"

echo "== two namespaces joined by a veth pair: 192.0.2.1 (Trellis) and 192.0.2.2 (wireguard-go), IPv6 too"
ip netns add "$NS_T"
ip netns add "$NS_G"
ip link add "vd$$t" netns "$NS_T" type veth peer name "vd$$g" netns "$NS_G"
ip -n "$NS_T" addr add 192.0.2.1/24 dev "vd$$t"
ip -n "$NS_G" addr add 192.0.2.2/24 dev "vd$$g"
ip -n "$NS_T" addr add 2001:db8::1/64 dev "vd$$t" nodad
ip -n "$NS_G" addr add 2001:db8::2/64 dev "vd$$g" nodad
for ns in "$NS_T" "$NS_G"; do ip -n "$ns" link set lo up; done
ip -n "$NS_T" link set "vd$$t" up
ip -n "$NS_G" link set "vd$$g" up

echo "== starting 'trellis wireguard $IF_T' and 'wireguard-go -f $IF_G'"
ip netns exec "$NS_T" "$TRELLIS" wireguard "$IF_T" >/dev/null &
PIDS+=($!)
ip netns exec "$NS_G" wireguard-go -f "$IF_G" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
  [[ -S /var/run/wireguard/$IF_T.sock && -S /var/run/wireguard/$IF_G.sock ]] && break
  sleep 0.1
done

KEY_T=$(wg genkey); KEY_G=$(wg genkey)
PUB_T=$(wg pubkey <<<"$KEY_T"); PUB_G=$(wg pubkey <<<"$KEY_G")
echo "== configuring both with wg(8): Trellis's peer endpoint over IPv6, wireguard-go's over IPv4"
ip netns exec "$NS_T" wg set "$IF_T" private-key <(echo "$KEY_T") listen-port 51820 \
  peer "$PUB_G" allowed-ips 10.7.0.2/32,fd07::2/128 endpoint "[2001:db8::2]:51821"
ip netns exec "$NS_G" wg set "$IF_G" private-key <(echo "$KEY_G") listen-port 51821 \
  peer "$PUB_T" allowed-ips 10.7.0.1/32,fd07::1/128 endpoint 192.0.2.1:51820
ip -n "$NS_T" addr add 10.7.0.1/24 dev "$IF_T"; ip -n "$NS_T" addr add fd07::1/64 dev "$IF_T" nodad
ip -n "$NS_G" addr add 10.7.0.2/24 dev "$IF_G"; ip -n "$NS_G" addr add fd07::2/64 dev "$IF_G" nodad
ip -n "$NS_T" link set "$IF_T" up
ip -n "$NS_G" link set "$IF_G" up

echo "== ping through the tunnel, IPv4 and IPv6 inside"
ip netns exec "$NS_T" ping -c 3 -W 2 10.7.0.2
ip netns exec "$NS_G" ping -6 -c 3 -W 2 fd07::1

echo "== wg show on the Trellis side"
ip netns exec "$NS_T" wg show "$IF_T"
