#!/usr/bin/env bash
# What the access policy costs the data path: iperf3 TCP between two real `trellis daemon`s joined to
# a real `trellis server`, with no policy and with a 100-rule policy (set with `trellis policy set`)
# whose only rule admitting iperf3's port is the last one, the worst case for a linear match.
# The runs alternate (none, policy, none, policy, ..., none) so drift on a shared machine falls on
# both sides; the medians, their ratio and the receiver's droppedByPolicy counter are printed as one
# Markdown table. One check proves the filter is really there: a port the policy does not name is refused.
#
# Topology: namespaces S (server), A and B on one bridge in S (10.0.0.0/24); A sends to B.
#
# Usage: sudo bench/policy-throughput.sh [-t SECONDS] [-r REPETITIONS] [--no-build]
#   -t  iperf3 duration per run (default 10; env DURATION)
#   -r  runs per condition with the policy; one more run without it closes the series (default 5; env REPS)
#   --no-build  do not build; use $TRELLIS_BIN or src/Trellis.Cli/bin/Release/net10.0/trellis
# Needs root, /dev/net/tun, ip, iperf3, ping, ss, dotnet.
set -euo pipefail

DURATION=${DURATION:-10}
REPS=${REPS:-5}
BUILD=1

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    -t) DURATION=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$REPS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "-t and -r take positive integers" >&2; exit 2; }
done

log() { echo "[policy-bench] $*" >&2; }
die() { echo "[policy-bench] error: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "run as root (namespaces, veth and TUN devices)"
[[ -e /dev/net/tun ]] || die "/dev/net/tun is missing"
for tool in ip iperf3 ping ss dotnet awk sort; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
source "$REPO/bench/lib/common.sh"
WORK=$(mktemp -d /tmp/trellis-policy-bench.XXXXXX)
NS_S="trlp-$$-s"
NS_A="trlp-$$-a"
NS_B="trlp-$$-b"
BRIDGE="trlpbr$$"
VETH_A="vpa$$" # interface names: at most 15 bytes, unique on the machine
VETH_B="vpb$$"
PORT_SA="vpsa$$"
PORT_SB="vpsb$$"
UNDER_A=10.0.0.1
UNDER_B=10.0.0.2
UNDER_S=10.0.0.3
SERVER_PORT=8080
SERVER_URL=http://$UNDER_S:$SERVER_PORT
ADMIN_SOCKET=$WORK/server/admin.sock
IPERF_PORT=5201  # the last of the policy's rules admits it
DENIED_PORT=5202 # no rule names it
RULES=100
BENCH_USER=bench
PIDS=()

cleanup() {
  set +e
  local ns pid i
  # Daemons first (they take their TUN devices down), then the server and iperf3.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  for ns in "$NS_A" "$NS_B" "$NS_S"; do
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
admin() { in_ns "$NS_S" "$TRELLIS" "$@" --admin-socket "$ADMIN_SOCKET"; }
node() { local side=$1; shift; in_ns "trlp-$$-$side" "$TRELLIS" "$@" --socket "$WORK/$side/trellis.sock"; }

# json_number FIELD: the last numeric value of "FIELD" in the JSON on stdin (status lists the peers
# before the node's own total).
json_number() { grep -o "\"$1\":[0-9]*" | tail -n 1 | cut -d: -f2; }

# --- topology: one bridge in S, A and B hang on it ---------------------------------------------
log "namespaces $NS_S, $NS_A, $NS_B"
for ns in "$NS_S" "$NS_A" "$NS_B"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done
ip -n "$NS_S" link add "$BRIDGE" type bridge
ip link add "$VETH_A" netns "$NS_A" type veth peer name "$PORT_SA" netns "$NS_S"
ip link add "$VETH_B" netns "$NS_B" type veth peer name "$PORT_SB" netns "$NS_S"
ip -n "$NS_S" link set "$PORT_SA" master "$BRIDGE"
ip -n "$NS_S" link set "$PORT_SB" master "$BRIDGE"
ip -n "$NS_S" addr add "$UNDER_S/24" dev "$BRIDGE"
ip -n "$NS_A" addr add "$UNDER_A/24" dev "$VETH_A"
ip -n "$NS_B" addr add "$UNDER_B/24" dev "$VETH_B"
for link in "$BRIDGE" "$PORT_SA" "$PORT_SB"; do ip -n "$NS_S" link set "$link" up; done
ip -n "$NS_A" link set "$VETH_A" up
ip -n "$NS_B" link set "$VETH_B" up

# --- server, user, auth key --------------------------------------------------------------------
mkdir -p "$WORK/server" "$WORK/a" "$WORK/b"
log "trellis server at $SERVER_URL"
ip netns exec "$NS_S" "$TRELLIS" server --listen "http://0.0.0.0:$SERVER_PORT" --public-url "$SERVER_URL" \
  --data-dir "$WORK/server" >"$WORK/server.log" 2>&1 &
PIDS+=($!)
wait_for 60 "trellis server did not listen (see its log: $(tail -n 3 "$WORK/server.log" 2>/dev/null | tr '\n' ' '))" \
  grep -q "listening on" "$WORK/server.log"
admin users create "$BENCH_USER" >/dev/null
AUTH_KEY=$(admin authkeys create --user "$BENCH_USER" --reusable | tr -d '[:space:]')

# --- daemons -----------------------------------------------------------------------------------
for side in a b; do
  ip netns exec "trlp-$$-$side" "$TRELLIS" daemon --state-dir "$WORK/$side" --socket "$WORK/$side/trellis.sock" \
    >"$WORK/daemon-$side.log" 2>&1 &
  PIDS+=($!)
  wait_for 60 "the daemon of $side did not open its socket" test -S "$WORK/$side/trellis.sock"
  node "$side" up --server "$SERVER_URL" --authkey "$AUTH_KEY" --hostname "bench-$side" >/dev/null
done
OVERLAY_B=$(node b status --json | tr -d ' \n' | grep -o '"addresses":\["[0-9.]*' | head -n 1 | grep -o '[0-9.]*$')
[[ -n $OVERLAY_B ]] || die "no overlay IPv4 address in B's status"
log "B is $OVERLAY_B on the overlay"

for port in "$IPERF_PORT" "$DENIED_PORT"; do
  ip netns exec "$NS_B" iperf3 -s -p "$port" >"$WORK/iperf3-server-$port.log" 2>&1 &
  PIDS+=($!)
  wait_for 10 "iperf3 did not listen on $port" bash -c "[[ -n \$(ip netns exec $NS_B ss -Hltn 'sport = :$port') ]]"
done

direct() { in_ns "$NS_A" ping -n -c 1 -W 1 "$OVERLAY_B" && node a status --json | tr -d ' \n' | grep -q '"path":"direct"'; }
wait_for 60 "A did not reach B on a direct path" direct

# --- the policy: 99 rules for other ports, then the one that admits iperf3 ----------------------
{
  echo '{"acls": ['
  for ((i = 1; i < RULES; i++)); do
    echo "  {\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:$((10000 + i))\"]},"
  done
  echo "  {\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:$IPERF_PORT\"]}"
  echo ']}'
} >"$WORK/policy.hujson"

# B logs each filter it puts in force or removes; wait for the next one.
filter_lines() { grep -c -e "access policy in force" -e "no access policy" "$WORK/daemon-b.log" || true; }
await_filter_change() { # lines-before
  local before=$1
  wait_for 60 "B did not log a change of its packet filter" bash -c "(( \$(grep -c -e 'access policy in force' -e 'no access policy' '$WORK/daemon-b.log') > $before ))"
}

set_policy() {
  local before
  before=$(filter_lines)
  admin policy set "$WORK/policy.hujson" >/dev/null
  await_filter_change "$before"
}

remove_policy() {
  local before
  before=$(filter_lines)
  admin policy remove >/dev/null
  await_filter_change "$before"
}

dropped_b() { node b status --json | tr -d ' \n' | json_number droppedByPolicy; }

# run LABEL: one iperf3 run A -> B, appends Gbit/s to $WORK/LABEL
run() {
  local label=$1 out=$WORK/iperf3-$1-$RANDOM.log gbits
  timeout $((DURATION + 30)) ip netns exec "$NS_A" \
    iperf3 -c "$OVERLAY_B" -p "$IPERF_PORT" -t "$DURATION" -O 1 -f g >"$out" 2>&1 ||
    die "iperf3 ($label) failed: $(tail -n 2 "$out" | tr '\n' ' ')"
  gbits=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' "$out")
  [[ -n $gbits ]] || die "iperf3 ($label) printed no receiver figure: $(tail -n 2 "$out" | tr '\n' ' ')"
  echo "$gbits" >>"$WORK/$label"
  log "  $label: $gbits Gbit/s"
}

: >"$WORK/none"
: >"$WORK/policy"
DROPPED_DURING=0
for ((r = 1; r <= REPS; r++)); do
  log "repetition $r of $REPS"
  run none
  set_policy
  before=$(dropped_b)
  run policy
  after=$(dropped_b)
  DROPPED_DURING=$((DROPPED_DURING + after - before))
  remove_policy
done
log "closing run without a policy"
run none

# The check that the figure is of a filter that is there: a port no rule names is refused.
set_policy
before=$(dropped_b)
DENIED=refused
if timeout 30 ip netns exec "$NS_A" iperf3 -c "$OVERLAY_B" -p "$DENIED_PORT" -t 1 --connect-timeout 3000 >"$WORK/iperf3-denied.log" 2>&1; then
  DENIED="CONNECTED (the filter is not in force)"
fi
DROPPED_DENIED=$(($(dropped_b) - before))

NONE=$(median <"$WORK/none")
POLICY=$(median <"$WORK/policy")

echo
echo "## Access policy on the data path"
echo
echo "- $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), dotnet $(dotnet --version), $(iperf3 --version 2>&1 | head -n 1)"
echo "- trellis server + two trellis daemons in namespaces on one bridge; iperf3 TCP A -> B over the overlay, direct path, $DURATION s per run (first second omitted)"
echo "- policy: $RULES rules, \`src: [\"*\"]\`, the first $((RULES - 1)) for ports 10001-$((10000 + RULES - 1)), the last for iperf3's port $IPERF_PORT"
echo "- order: none, policy alternating $REPS times, then none again"
echo
echo "| condition | runs | Gbit/s per run | median Gbit/s | ratio to no policy | B droppedByPolicy during the runs |"
echo "|---|---|---|---|---|---|"
echo "| no policy | $(wc -l <"$WORK/none") | $(paste -sd ' ' "$WORK/none") | $NONE | 1.000 | |"
echo "| $RULES-rule policy, match on the last rule | $(wc -l <"$WORK/policy") | $(paste -sd ' ' "$WORK/policy") | $POLICY | $(ratio "$POLICY" "$NONE") | $DROPPED_DURING |"
echo
echo "- denied flow (TCP to port $DENIED_PORT, which no rule names): $DENIED; B's droppedByPolicy rose by $DROPPED_DENIED"
