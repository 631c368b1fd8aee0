#!/usr/bin/env bash
# What an exit node costs: iperf3 TCP from a client to an "internet" host, sent directly and sent
# through a Trellis exit node (`trellis set --exit-node`), over IPv4 and over IPv6 (the exit node
# NATs both to its own address), beside the tunnel alone (the client to the exit node's own overlay
# address: what forwarding and NAT add on top of it), and last that tunnel again over the server's relay
# (every UDP datagram of the client's namespace dropped, so the pair falls back to the relay's TCP).
# The runs alternate (direct, exit, direct, exit, ...) so drift on a
# shared machine falls on both sides; the medians and their ratio are printed as one Markdown table.
# Each exit run is checked to have really gone through the tunnel: iperf3 reports the client's overlay
# address as its local address, and the internet host sees the exit node's address.
#
# Topology: namespaces S (server and the bridge), C (client), E (exit node) and W (the internet host)
# on one bridge (10.0.0.0/24, fd77::/64); direct runs cross the bridge once, exit runs cross it twice
# (C -> E in the tunnel, E -> W after the exit node's NAT).
#
# Usage: sudo bench/exit-throughput.sh [-t SECONDS] [-r REPETITIONS] [--relay-only] [--no-build]
#   -t  iperf3 duration per run (default 10; env DURATION)
#   -r  runs per condition and family (default 3; env REPS)
#   --relay-only  only the runs over the relay (the other rows print n/a)
#   --no-build  do not build; use $TRELLIS_BIN or src/Trellis.Cli/bin/Release/net10.0/trellis
# Needs root, /dev/net/tun, ip, nft, iperf3, ping, ss, dotnet.
set -euo pipefail

DURATION=${DURATION:-10}
REPS=${REPS:-3}
BUILD=1
RELAY_ONLY=0

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    -t) DURATION=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    --relay-only) RELAY_ONLY=1; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$REPS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "-t and -r take positive integers" >&2; exit 2; }
done

log() { echo "[exit-bench] $*" >&2; }
die() { echo "[exit-bench] error: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "run as root (namespaces, veth and TUN devices)"
[[ -e /dev/net/tun ]] || die "/dev/net/tun is missing"
for tool in ip nft iperf3 ping ss dotnet awk sort; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
source "$REPO/bench/lib/common.sh"
WORK=$(mktemp -d /tmp/trellis-exit-bench.XXXXXX)
PREFIX="trlx-$$"
BRIDGE="trlxbr$$"
CUT_TABLE=trellis_bench_cut # in the client's namespace only
SIDES=(c e w)
declare -A UNDER4=([c]=10.0.0.1 [e]=10.0.0.2 [w]=10.0.0.4)
declare -A UNDER6=([c]=fd77::1 [e]=fd77::2 [w]=fd77::4)
UNDER_S=10.0.0.3
SERVER_PORT=8080
SERVER_URL=http://$UNDER_S:$SERVER_PORT
ADMIN_SOCKET=$WORK/server/admin.sock
IPERF_PORT=5201
BENCH_USER=bench
PIDS=()

cleanup() {
  set +e
  local ns pid i
  # Daemons first (they take their routes and TUN devices down), then the server and iperf3.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  for ns in "$PREFIX-s" "${SIDES[@]/#/$PREFIX-}"; do
    # anything still running inside was started by this script
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Trellis build -----------------------------------------------------------------------------
TRELLIS=$(trellis_binary "$REPO" "$WORK")

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
admin() { in_ns "$PREFIX-s" "$TRELLIS" "$@" --admin-socket "$ADMIN_SOCKET"; }
node() { local side=$1; shift; in_ns "$PREFIX-$side" "$TRELLIS" "$@" --socket "$WORK/$side/trellis.sock"; }

# --- topology: one bridge in S; C, E and W hang on it -------------------------------------------
log "namespaces $PREFIX-{s,c,e,w}"
ip netns add "$PREFIX-s"
ip -n "$PREFIX-s" link set lo up
ip -n "$PREFIX-s" link add "$BRIDGE" type bridge
ip -n "$PREFIX-s" addr add "$UNDER_S/24" dev "$BRIDGE"
ip -n "$PREFIX-s" link set "$BRIDGE" up
for side in "${SIDES[@]}"; do
  ns=$PREFIX-$side
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # interface names: at most 15 bytes, unique on the machine
  ip link add "vx$side$$" netns "$ns" type veth peer name "vxs$side$$" netns "$PREFIX-s"
  ip -n "$PREFIX-s" link set "vxs$side$$" master "$BRIDGE"
  ip -n "$PREFIX-s" link set "vxs$side$$" up
  ip -n "$ns" addr add "${UNDER4[$side]}/24" dev "vx$side$$"
  ip -n "$ns" addr add "${UNDER6[$side]}/64" dev "vx$side$$" nodad
  ip -n "$ns" link set "vx$side$$" up
done

# --- server, user, auth key --------------------------------------------------------------------
mkdir -p "$WORK/server" "$WORK/c" "$WORK/e"
log "trellis server at $SERVER_URL"
ip netns exec "$PREFIX-s" "$TRELLIS" server --listen "http://0.0.0.0:$SERVER_PORT" --public-url "$SERVER_URL" \
  --data-dir "$WORK/server" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 60 "trellis server did not listen (see its log: $(tail -n 3 "$WORK/server.log" 2>/dev/null | tr '\n' ' '))" \
  grep -q "listening on" "$WORK/server.log"
admin users create "$BENCH_USER" >/dev/null
AUTH_KEY=$(admin authkeys create --user "$BENCH_USER" --reusable | tr -d '[:space:]')

# --- daemons: the exit node offers 0.0.0.0/0 and ::/0, the admin approves --------------------------
for side in c e; do
  ip netns exec "$PREFIX-$side" "$TRELLIS" daemon --state-dir "$WORK/$side" --socket "$WORK/$side/trellis.sock" \
    >"$WORK/daemon-$side.log" 2>&1 &
  PIDS+=($!)
  wait_for 60 "the daemon of $side did not open its socket" test -S "$WORK/$side/trellis.sock"
done
node e up --server "$SERVER_URL" --authkey "$AUTH_KEY" --hostname bench-exit --advertise-exit-node >/dev/null
node c up --server "$SERVER_URL" --authkey "$AUTH_KEY" --hostname bench-client >/dev/null
admin routes approve bench-exit 0.0.0.0/0 ::/0 >/dev/null
wait_for 60 "the client did not accept bench-exit as its exit node" node c set --exit-node bench-exit
node c set --exit-node= >/dev/null
OVERLAY_C=$(node c status --json | tr -d ' \n' | grep -o '"addresses":\["[0-9.]*' | head -n 1 | grep -o '[0-9.]*$')
OVERLAY_E=$(node e status --json | tr -d ' \n' | grep -o '"addresses":\["[0-9.]*' | head -n 1 | grep -o '[0-9.]*$')
OVERLAY6_E=$(node e status --json | tr -d ' \n' | grep -o '"addresses":\[[^]]*' | head -n 1 | grep -o '"[0-9a-f:]*:[0-9a-f:]*/' | tr -d '"/')
[[ -n $OVERLAY_E && -n $OVERLAY6_E ]] || die "no overlay IPv4 and IPv6 address in the exit node's status"
OVERLAY6_C=$(node c status --json | tr -d ' \n' | grep -o '"addresses":\[[^]]*' | head -n 1 | grep -o '"[0-9a-f:]*:[0-9a-f:]*/' | tr -d '"/')
[[ -n $OVERLAY_C && -n $OVERLAY6_C ]] || die "no overlay IPv4 and IPv6 address in the client's status"

for side in w e; do
  ip netns exec "$PREFIX-$side" iperf3 -s -p "$IPERF_PORT" >"$WORK/iperf3-server-$side.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 "iperf3 did not listen on $IPERF_PORT in $side" bash -c "[[ -n \$(ip netns exec $PREFIX-$side ss -Hltn 'sport = :$IPERF_PORT') ]]"
done

# run LABEL TARGET EXPECTED-LOCAL: one iperf3 run C -> TARGET, appends Gbit/s to $WORK/LABEL; the
# client's local address must match EXPECTED-LOCAL (a regex): the overlay's through the exit node,
# the underlay's directly.
run() {
  local label=$1 target=$2 expected=$3 out=$WORK/iperf3-$1-$RANDOM.log gbits local
  timeout $((DURATION + 30)) ip netns exec "$PREFIX-c" \
    iperf3 -c "$target" -p "$IPERF_PORT" -t "$DURATION" -O 1 -f g >"$out" 2>&1 ||
    die "iperf3 ($label) failed: $(tail -n 2 "$out" | tr '\n' ' ')"
  local=$(awk '/local .* port .* connected to/ { print $4; exit }' "$out")
  [[ $local =~ $expected ]] || die "iperf3 ($label) left from $local, not from an address matching $expected"
  gbits=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' "$out")
  [[ -n $gbits ]] || die "iperf3 ($label) printed no receiver figure in Gbit/s: $(tail -n 2 "$out" | tr '\n' ' ')"
  echo "$gbits" >>"$WORK/$label"
  log "  $label: $gbits Gbit/s (from $local)"
}

exit_in_use() { # the internet host sees the exit node's address
  in_ns "$PREFIX-c" ping -n -c 1 -W 1 "${UNDER4[w]}" >/dev/null &&
    node c status --json | tr -d ' \n' | grep -q '"exitNode":{[^}]*"online":true'
}

for label in direct4 exit4 direct6 exit6 tunnel4 tunnel6; do : >"$WORK/$label"; done
for ((r = 1; r <= REPS && !RELAY_ONLY; r++)); do
  log "repetition $r of $REPS"
  run direct4 "${UNDER4[w]}" "^${UNDER4[c]}\$"
  run direct6 "${UNDER6[w]}" "^${UNDER6[c]}\$"
  run tunnel4 "$OVERLAY_E" "^${OVERLAY_C//./\\.}\$"
  run tunnel6 "$OVERLAY6_E" "^${OVERLAY6_C}\$"
  node c set --exit-node bench-exit >/dev/null
  wait_for 30 "the exit node did not carry the client's traffic" exit_in_use
  run exit4 "${UNDER4[w]}" "^${OVERLAY_C//./\\.}\$"
  run exit6 "${UNDER6[w]}" "^${OVERLAY6_C}\$"
  node c set --exit-node= >/dev/null
done
SEEN=$(grep -o 'Accepted connection from [0-9a-f.:]*' "$WORK/iperf3-server-w.log" | awk '{ print $4 }' | sort -u | paste -sd ' ' || true)

# The same tunnel with every UDP datagram of the client's namespace dropped (a UDP-hostile network):
# the pair falls back to the server's relay (TCP), and iperf3 runs over it.
log "the client's UDP cut: the tunnel over the relay"
: >"$WORK/relay4"
in_ns "$PREFIX-c" nft add table inet "$CUT_TABLE"
for hook in input output; do
  in_ns "$PREFIX-c" nft add chain inet "$CUT_TABLE" "$hook" "{ type filter hook $hook priority -10; meta l4proto udp drop; }"
done
over_relay() {
  node c status --json | tr -d ' \n' | grep -q '"path":"relay"' && in_ns "$PREFIX-c" ping -n -c 1 -W 1 "$OVERLAY_E" >/dev/null
}
wait_for 60 "the client did not reach the exit node over the relay with its UDP cut" over_relay
for ((r = 1; r <= REPS; r++)); do
  run relay4 "$OVERLAY_E" "^${OVERLAY_C//./\\.}\$"
done
in_ns "$PREFIX-c" nft delete table inet "$CUT_TABLE"

D4=$(median <"$WORK/direct4"); X4=$(median <"$WORK/exit4")
D6=$(median <"$WORK/direct6"); X6=$(median <"$WORK/exit6")
T4=$(median <"$WORK/tunnel4"); T6=$(median <"$WORK/tunnel6")
R4=$(median <"$WORK/relay4")

echo
echo "## Exit node: throughput through it beside the direct path"
echo
echo "- $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), dotnet $(dotnet --version), $(iperf3 --version 2>&1 | head -n 1), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- trellis server + two trellis daemons (client, exit node) and an iperf3 server (the internet host) in namespaces on one bridge; iperf3 TCP client -> internet host, $DURATION s per run (first second omitted), direct, the tunnel alone and through the exit node alternating"
echo "- addresses the internet host saw: $SEEN"
echo
echo "| family | path | runs | Gbit/s per run | median Gbit/s | ratio to direct |"
echo "|---|---|---|---|---|---|"
echo "| IPv4 | direct | $(wc -l <"$WORK/direct4") | $(paste -sd ' ' "$WORK/direct4") | $D4 | 1.000 |"
echo "| IPv4 | the tunnel alone (to the exit node's overlay address) | $(wc -l <"$WORK/tunnel4") | $(paste -sd ' ' "$WORK/tunnel4") | $T4 | $(ratio "$T4" "$D4") |"
echo "| IPv4 | through the exit node | $(wc -l <"$WORK/exit4") | $(paste -sd ' ' "$WORK/exit4") | $X4 | $(ratio "$X4" "$D4") |"
echo "| IPv4 | the tunnel alone over the relay (the client's UDP cut; after the runs above) | $(wc -l <"$WORK/relay4") | $(paste -sd ' ' "$WORK/relay4") | $R4 | $(ratio "$R4" "$D4") |"
echo "| IPv6 | direct | $(wc -l <"$WORK/direct6") | $(paste -sd ' ' "$WORK/direct6") | $D6 | 1.000 |"
echo "| IPv6 | the tunnel alone (to the exit node's overlay address) | $(wc -l <"$WORK/tunnel6") | $(paste -sd ' ' "$WORK/tunnel6") | $T6 | $(ratio "$T6" "$D6") |"
echo "| IPv6 | through the exit node | $(wc -l <"$WORK/exit6") | $(paste -sd ' ' "$WORK/exit6") | $X6 | $(ratio "$X6" "$D6") |"
