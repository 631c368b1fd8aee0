#!/usr/bin/env bash
# Side-by-side data-plane benchmark: iperf3 TCP throughput and ping RTT between two network
# namespaces joined by a veth pair, over
#   the raw veth, wireguard-go <-> wireguard-go, Trellis <-> Trellis, Trellis <-> wireguard-go,
#   the Trellis pair with the TUN's offloads but without UDP GSO/GRO (TRELLIS_UDP_OFFLOAD=0),
#   the two Trellis pairs again with all offloads off (TRELLIS_OFFLOAD=0)
# (the first-named side sends). Prints the versions and one Markdown table with ratios to wireguard-go.
# Each tunnel also carries iperf3 UDP (-b 0, 1400-byte datagrams) once: datagrams per second received and loss.
# Each tunnel is measured twice: as is, and with the iperf3 server and client each in a session of
# their own (`setsid`), so the kernel's autogroup scheduling gives the application a fair share of
# the cores against the daemons, as under systemd. CPU cycles per byte: each daemon's CPU time
# (/proc/PID/stat utime+stime) during the iperf3 runs, times the CPU clock (cpu MHz of /proc/cpuinfo),
# divided by the bytes the sending side's tunnel carried.
#
# Usage: sudo bench/throughput.sh [-t SECONDS] [-r REPETITIONS] [-n PINGS] [--no-build]
#   -t  iperf3 duration per repetition (default 10; env DURATION)
#   -r  iperf3 repetitions per path, the median is reported (default 3; env REPS)
#   -n  pings per path, -i 0.2, the median RTT is reported (default 20; env PINGS)
#   --no-build  do not build; use $TRELLIS_BIN or src/Trellis.Cli/bin/Release/net10.0/trellis
# TRELLIS_NODE_BIN=path/to/trellis-node adds "Trellis AOT <-> Trellis AOT": the NativeAOT executable's
# `wireguard` verb (the same device code, compiled ahead of time) beside the JIT-run one, in the same run.
# TRELLIS_NODE_ANCHOR=path/to/trellis-node (another build, e.g. main's) adds its row just before that one;
# with either, the AOT rows run again with offloads off.
# Needs root, /dev/net/tun, ip, wg, wireguard-go, iperf3, ping, dotnet.
set -euo pipefail

DURATION=${DURATION:-10}
REPS=${REPS:-3}
PINGS=${PINGS:-20}
BUILD=1

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    -t) DURATION=$2; shift 2 ;;
    -r) REPS=$2; shift 2 ;;
    -n) PINGS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$DURATION" "$REPS" "$PINGS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "-t, -r and -n take positive integers" >&2; exit 2; }
done

log() { echo "[bench] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "run as root (namespaces, veth and TUN devices)"
[[ -e /dev/net/tun ]] || die "/dev/net/tun is missing"
for tool in ip wg wireguard-go iperf3 ping ss dotnet awk sort; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/trellis-bench.XXXXXX)
NS_A="trlb-$$-a"
NS_B="trlb-$$-b"
IF_A="trlb$$a" # interface names: at most 15 bytes, unique on the machine (the UAPI socket dir is shared)
IF_B="trlb$$b"
VETH_A="vb$$a"
VETH_B="vb$$b"
UNDER_A=10.0.0.1
UNDER_B=10.0.0.2
INNER_A=192.168.241.1
INNER_B=192.168.241.2
PORT_A=51820
PORT_B=51821
IPERF_PORT=5201
IPERF_SETSID_PORT=5202
DAEMON_PIDS=()
IPERF_PID=
IPERF_SETSID_PID=
CPU_MHZ=$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
CLK_TCK=$(getconf CLK_TCK)

stop_pid() { # pid: SIGTERM, then SIGKILL after 5 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_daemons() {
  local pid
  for pid in "${DAEMON_PIDS[@]}"; do stop_pid "$pid"; done
  DAEMON_PIDS=()
  rm -f "/var/run/wireguard/$IF_A.sock" "/var/run/wireguard/$IF_B.sock"
}

cleanup() {
  set +e
  stop_daemons
  [[ -n $IPERF_PID ]] && stop_pid "$IPERF_PID"
  [[ -n $IPERF_SETSID_PID ]] && stop_pid "$IPERF_SETSID_PID"
  local ns pid
  for ns in "$NS_A" "$NS_B"; do
    # anything still running inside was started by this script
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

median() { # numbers on stdin, one per line
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { # value baseline
  awk -v v="$1" -v b="$2" 'BEGIN {
    if (v == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f\n", v / b }'
}

fmt() { # value decimals
  awk -v v="$1" -v d="$2" 'BEGIN { if (v == "n/a") print v; else printf "%.*f\n", d, v }'
}

# --- Trellis build -----------------------------------------------------------------------------
TRELLIS=${TRELLIS_BIN:-}
TRELLIS_ERROR=
if [[ -z $TRELLIS ]]; then
  if [[ $BUILD -eq 1 ]]; then
    log "building Trellis (dotnet publish -c Release src/Trellis.Cli)"
    if dotnet publish "$REPO/src/Trellis.Cli" -c Release -o "$WORK/trellis" -nologo -v quiet >"$WORK/build.log" 2>&1; then
      TRELLIS=$WORK/trellis/trellis
    else
      TRELLIS_ERROR="build failed: $(grep -m 3 -E 'error' "$WORK/build.log" | sed -E 's/ \[[^]]*\]$//; s/[[:space:]]+$//' | paste -sd ';' -)"
    fi
  else
    TRELLIS=$REPO/src/Trellis.Cli/bin/Release/net10.0/trellis
  fi
fi
if [[ -z $TRELLIS_ERROR && ! -x $TRELLIS ]]; then
  TRELLIS_ERROR="no trellis executable at $TRELLIS"
fi

# --- topology ----------------------------------------------------------------------------------
log "namespaces $NS_A, $NS_B"
ip netns add "$NS_A"
ip netns add "$NS_B"
ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B"
ip -n "$NS_A" addr add "$UNDER_A/24" dev "$VETH_A"
ip -n "$NS_B" addr add "$UNDER_B/24" dev "$VETH_B"
for ns in "$NS_A" "$NS_B"; do ip -n "$ns" link set lo up; done
ip -n "$NS_A" link set "$VETH_A" up
ip -n "$NS_B" link set "$VETH_B" up

(umask 077 && wg genkey >"$WORK/a.key" && wg genkey >"$WORK/b.key")
PUB_A=$(wg pubkey <"$WORK/a.key")
PUB_B=$(wg pubkey <"$WORK/b.key")

# Started with `ip netns exec` directly (not through in_b) so that $! is iperf3 itself.
ip netns exec "$NS_B" iperf3 -s -p "$IPERF_PORT" >"$WORK/iperf3-server.log" 2>&1 &
IPERF_PID=$!
# The fair-share server: its own session, so its own autogroup (setsid execs in place: a background
# job of this script is no process-group leader, so $! is iperf3).
ip netns exec "$NS_B" setsid iperf3 -s -p "$IPERF_SETSID_PORT" >"$WORK/iperf3-setsid-server.log" 2>&1 &
IPERF_SETSID_PID=$!
for ((i = 0; i < 100; i++)); do
  [[ -n $(in_b ss -Hltn "sport = :$IPERF_PORT") && -n $(in_b ss -Hltn "sport = :$IPERF_SETSID_PORT") ]] && break
  sleep 0.1
done

# start_daemon IMPL NS IFNAME: starts it in the foreground (in the background of this script) and
# waits until `wg show IFNAME` answers; on failure sets FAILURE and returns 1.
# (Called directly, not in $(...), so DAEMON_PIDS stays in this shell.)
FAILURE=
OFFLOAD=1 # TRELLIS_OFFLOAD for the Trellis daemons of the current row
UDP_OFFLOAD=1 # TRELLIS_UDP_OFFLOAD for them: 0 keeps the TUN's offloads but not the socket's GSO/GRO
start_daemon() {
  local impl=$1 ns=$2 ifname=$3 pid i
  local out=$WORK/$ifname-$impl.log
  case $impl in
    wireguard-go) ip netns exec "$ns" wireguard-go -f "$ifname" >"$out" 2>&1 & ;;
    trellis) ip netns exec "$ns" env TRELLIS_OFFLOAD="$OFFLOAD" TRELLIS_UDP_OFFLOAD="$UDP_OFFLOAD" "$TRELLIS" wireguard "$ifname" >"$out" 2>&1 & ;;
    trellis-aot) ip netns exec "$ns" env TRELLIS_OFFLOAD="$OFFLOAD" TRELLIS_UDP_OFFLOAD="$UDP_OFFLOAD" "$TRELLIS_NODE_BIN" wireguard "$ifname" >"$out" 2>&1 & ;;
    trellis-aot-anchor) ip netns exec "$ns" env TRELLIS_OFFLOAD="$OFFLOAD" TRELLIS_UDP_OFFLOAD="$UDP_OFFLOAD" "$TRELLIS_NODE_ANCHOR" wireguard "$ifname" >"$out" 2>&1 & ;;
  esac
  pid=$!
  DAEMON_PIDS+=("$pid")
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      FAILURE="$impl exited during start-up: $(grep -v -e '^[│┌└]' -e '^$' "$out" | tail -n 3 | tr '\n' ' ')"
      return 1
    fi
    ip netns exec "$ns" wg show "$ifname" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  FAILURE="$impl did not answer 'wg show $ifname' within 30 s"
  return 1
}

# tunnel_up IMPL_A IMPL_B: both daemons configured and a first ping answered; else sets FAILURE.
tunnel_up() {
  start_daemon "$1" "$NS_A" "$IF_A" || return 1
  start_daemon "$2" "$NS_B" "$IF_B" || return 1
  FAILURE="configuration with wg/ip failed"
  in_a wg set "$IF_A" private-key "$WORK/a.key" listen-port "$PORT_A" \
    peer "$PUB_B" allowed-ips "$INNER_B/32" endpoint "$UNDER_B:$PORT_B" || return 1
  in_b wg set "$IF_B" private-key "$WORK/b.key" listen-port "$PORT_B" \
    peer "$PUB_A" allowed-ips "$INNER_A/32" endpoint "$UNDER_A:$PORT_A" || return 1
  ip -n "$NS_A" addr add "$INNER_A/24" dev "$IF_A" && ip -n "$NS_A" link set "$IF_A" up || return 1
  ip -n "$NS_B" addr add "$INNER_B/24" dev "$IF_B" && ip -n "$NS_B" link set "$IF_B" up || return 1
  local i
  for ((i = 0; i < 15; i++)); do
    in_a ping -n -c 1 -W 1 "$INNER_B" >/dev/null 2>&1 && return 0
  done
  FAILURE="no ping reply through the tunnel within 15 s"
  return 1
}

cpu_ticks() { # PID: utime + stime so far, in clock ticks (0 when gone)
  awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

tun_bytes() { # NS IFNAME tx|rx
  ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes" 2>/dev/null || echo 0
}

cycles_per_byte() { # TICKS BYTES
  awk -v t="$1" -v b="$2" -v hz="$CLK_TCK" -v mhz="$CPU_MHZ" 'BEGIN {
    if (b + 0 == 0 || mhz == "") print "n/a"; else printf "%.2f\n", t / hz * mhz * 1e6 / b }'
}

# measure TARGET [setsid]: prints "GBITS RTT_MS CYCLES_PER_BYTE_A CYCLES_PER_BYTE_B" (medians; RTT
# and cycles n/a where they do not apply), or returns 1. With setsid the iperf3 client runs in a
# session of its own against the server started the same way.
measure() {
  local target=$1 mode=${2:-} r gbits rtt port=$IPERF_PORT wrap=()
  local pid_a=${DAEMON_PIDS[0]:-} pid_b=${DAEMON_PIDS[1]:-} ticks_a ticks_b bytes cyc_a=n/a cyc_b=n/a
  if [[ $mode == setsid ]]; then
    port=$IPERF_SETSID_PORT
    wrap=(setsid -w)
  fi
  ticks_a=$([[ -n $pid_a ]] && cpu_ticks "$pid_a" || echo 0)
  ticks_b=$([[ -n $pid_b ]] && cpu_ticks "$pid_b" || echo 0)
  bytes=$(tun_bytes "$NS_A" "$IF_A" tx)
  for ((r = 1; r <= REPS; r++)); do
    timeout $((DURATION + 30)) ip netns exec "$NS_A" \
      "${wrap[@]}" iperf3 -c "$target" -p "$port" -t "$DURATION" -O 1 -f g >"$WORK/iperf3-$r.log" 2>&1 || {
      echo "iperf3 failed: $(tail -n 2 "$WORK/iperf3-$r.log" | tr '\n' ' ')" >&2
      return 1
    }
    awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Gbits/sec") print $(i - 1) }' "$WORK/iperf3-$r.log"
  done >"$WORK/gbits"
  if [[ -n $pid_a && -n $pid_b ]]; then
    bytes=$(( $(tun_bytes "$NS_A" "$IF_A" tx) - bytes ))
    cyc_a=$(cycles_per_byte $(( $(cpu_ticks "$pid_a") - ticks_a )) "$bytes")
    cyc_b=$(cycles_per_byte $(( $(cpu_ticks "$pid_b") - ticks_b )) "$bytes")
  fi
  gbits=$(median <"$WORK/gbits")
  rtt=n/a
  if [[ $mode != setsid ]]; then
    timeout $((PINGS + 30)) ip netns exec "$NS_A" ping -n -c "$PINGS" -i 0.2 -W 1 "$target" >"$WORK/ping.log" 2>&1 || true
    rtt=$(sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$WORK/ping.log" | median)
  fi
  log "  ${mode:-as is}: iperf3 Gbit/s per repetition: $(tr '\n' ' ' <"$WORK/gbits")| median RTT $rtt ms | cycles/byte A $cyc_a, B $cyc_b"
  echo "$gbits $rtt $cyc_a $cyc_b"
}

# measure_udp TARGET: iperf3 UDP as fast as it can send (-b 0) in 1400-byte datagrams; prints
# "DATAGRAMS_PER_SECOND_RECEIVED LOSS_PERCENT" from the receiver's summary, or returns 1.
measure_udp() {
  local target=$1 out=$WORK/iperf3-udp.log
  timeout $((DURATION + 30)) ip netns exec "$NS_A" \
    iperf3 -c "$target" -p "$IPERF_PORT" -u -b 0 -l 1400 -t "$DURATION" >"$out" 2>&1 || {
    echo "iperf3 -u failed: $(tail -n 2 "$out" | tr '\n' ' ')" >&2
    return 1
  }
  # "[  5]   0.00-10.04  sec  1.20 GBytes  1.03 Gbits/sec  0.012 ms  768041/1688421 (45%)  receiver"
  awk '/receiver/ {
    split($3, span, "-"); seconds = span[2] - span[1]
    for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, lt, "/"); lost = lt[1]; total = lt[2] }
    if (seconds > 0 && total > 0) printf "%.0f %.2f\n", (total - lost) / seconds, 100 * lost / total }' "$out" | grep . || return 1
}

declare -A GBITS RTT NOTE SGBITS CYC_A CYC_B SCYC_A SCYC_B UDP_PPS UDP_LOSS
ROWS=("veth (no tunnel)" "wireguard-go <-> wireguard-go" "Trellis <-> Trellis" "Trellis <-> wireguard-go"
  "Trellis <-> Trellis, UDP GSO/GRO off" "Trellis <-> Trellis, offloads off" "Trellis <-> wireguard-go, offloads off")
[[ -z ${TRELLIS_NODE_ANCHOR:-} ]] || ROWS+=("Trellis AOT anchor <-> anchor")
[[ -z ${TRELLIS_NODE_BIN:-} ]] || ROWS+=("Trellis AOT <-> Trellis AOT")
[[ -z ${TRELLIS_NODE_ANCHOR:-} ]] || ROWS+=("Trellis AOT anchor <-> anchor, offloads off")
[[ -z ${TRELLIS_NODE_BIN:-} ]] || ROWS+=("Trellis AOT <-> Trellis AOT, offloads off")

run_row() { # label IMPL_A IMPL_B [OFFLOAD [UDP_OFFLOAD]]
  local label=$1 result g r ca cb
  OFFLOAD=${4:-1}
  UDP_OFFLOAD=${5:-1}
  log "$label"
  GBITS[$label]=n/a
  RTT[$label]=n/a
  SGBITS[$label]=n/a
  if [[ $2 == trellis || $3 == trellis ]] && [[ -n $TRELLIS_ERROR ]]; then
    NOTE[$label]=$TRELLIS_ERROR
    return
  fi
  if ! tunnel_up "$2" "$3"; then
    NOTE[$label]=$FAILURE
    log "  $FAILURE"
    stop_daemons
    return
  fi
  if result=$(measure "$INNER_B"); then
    read -r g r ca cb <<<"$result"
    GBITS[$label]=$g
    RTT[$label]=$r
    CYC_A[$label]=$ca
    CYC_B[$label]=$cb
  else
    NOTE[$label]="measurement failed"
  fi
  if result=$(measure "$INNER_B" setsid); then
    read -r g r ca cb <<<"$result"
    SGBITS[$label]=$g
    SCYC_A[$label]=$ca
    SCYC_B[$label]=$cb
  else
    NOTE[$label]="${NOTE[$label]:-}${NOTE[$label]:+; }setsid measurement failed"
  fi
  UDP_PPS[$label]=n/a
  UDP_LOSS[$label]=n/a
  if result=$(measure_udp "$INNER_B"); then
    read -r g r <<<"$result"
    UDP_PPS[$label]=$g
    UDP_LOSS[$label]=$r
    log "  UDP: ${UDP_PPS[$label]} datagrams/s received, ${UDP_LOSS[$label]}% lost"
  fi
  # The kernel counts a super-packet as one: bytes per packet above the MTU show the offloads at work.
  log "  bytes per packet the kernel counted: A's TUN sent $(tun_average "$NS_A" "$IF_A" tx), B's TUN received $(tun_average "$NS_B" "$IF_B" rx)"
  stop_daemons
}

tun_average() { # NS IFNAME tx|rx
  local bytes packets
  bytes=$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_bytes" 2>/dev/null || echo 0)
  packets=$(ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3_packets" 2>/dev/null || echo 0)
  awk -v b="$bytes" -v p="$packets" 'BEGIN { if (p == 0) print "n/a"; else printf "%.0f\n", b / p }'
}

LOAD_BEFORE=$(cut -d ' ' -f 1-3 /proc/loadavg)
log "veth (no tunnel)"
GBITS["veth (no tunnel)"]=n/a
RTT["veth (no tunnel)"]=n/a
if result=$(measure "$UNDER_B"); then
  read -r g r _ _ <<<"$result"
  GBITS["veth (no tunnel)"]=$g
  RTT["veth (no tunnel)"]=$r
else
  NOTE["veth (no tunnel)"]="measurement failed"
fi
SGBITS["veth (no tunnel)"]=n/a
if result=$(measure "$UNDER_B" setsid); then
  read -r g _ _ _ <<<"$result"
  SGBITS["veth (no tunnel)"]=$g
fi
run_row "wireguard-go <-> wireguard-go" wireguard-go wireguard-go
run_row "Trellis <-> Trellis" trellis trellis
run_row "Trellis <-> wireguard-go" trellis wireguard-go
run_row "Trellis <-> Trellis, UDP GSO/GRO off" trellis trellis 1 0
run_row "Trellis <-> Trellis, offloads off" trellis trellis 0
run_row "Trellis <-> wireguard-go, offloads off" trellis wireguard-go 0
if [[ -n ${TRELLIS_NODE_ANCHOR:-} ]]; then
  run_row "Trellis AOT anchor <-> anchor" trellis-aot-anchor trellis-aot-anchor
fi
if [[ -n ${TRELLIS_NODE_BIN:-} ]]; then
  run_row "Trellis AOT <-> Trellis AOT" trellis-aot trellis-aot
fi
if [[ -n ${TRELLIS_NODE_ANCHOR:-} ]]; then
  run_row "Trellis AOT anchor <-> anchor, offloads off" trellis-aot-anchor trellis-aot-anchor 0
fi
if [[ -n ${TRELLIS_NODE_BIN:-} ]]; then
  run_row "Trellis AOT <-> Trellis AOT, offloads off" trellis-aot trellis-aot 0
fi

# --- report ------------------------------------------------------------------------------------
BASE_GBITS=${GBITS["wireguard-go <-> wireguard-go"]}
BASE_RTT=${RTT["wireguard-go <-> wireguard-go"]}
BASE_SGBITS=${SGBITS["wireguard-go <-> wireguard-go"]}
echo
echo "## Data-plane benchmark"
echo
echo "- wireguard-go: $(wireguard-go --version 2>&1 | head -n 1)"
echo "- dotnet: $(dotnet --version)"
echo "- kernel: $(uname -r)"
echo "- nproc: $(nproc)"
echo "- iperf3: $(iperf3 --version 2>&1 | head -n 1)"
echo "- trellis: ${TRELLIS_ERROR:-$TRELLIS}"
[[ -z ${TRELLIS_NODE_BIN:-} ]] || echo "- trellis-node (NativeAOT): $TRELLIS_NODE_BIN"
[[ -z ${TRELLIS_NODE_ANCHOR:-} ]] || echo "- trellis-node anchor (NativeAOT): $TRELLIS_NODE_ANCHOR"
echo "- iperf3 TCP, $DURATION s (first second omitted), median of $REPS, as is and with server and client each under setsid; ping -i 0.2, median of $PINGS; A sends to B"
echo
echo "| path | Gbit/s | ratio to wireguard-go | setsid Gbit/s | ratio to wireguard-go | RTT ms | ratio to wireguard-go | cycles/byte A / B | setsid cycles/byte A / B |"
echo "|---|---|---|---|---|---|---|---|---|"
for label in "${ROWS[@]}"; do
  g=${GBITS[$label]}
  sg=${SGBITS[$label]:-n/a}
  r=${RTT[$label]}
  echo "| $label | $(fmt "$g" 2) | $(ratio "$g" "$BASE_GBITS") | $(fmt "$sg" 2) | $(ratio "$sg" "$BASE_SGBITS") | $(fmt "$r" 3) | $(ratio "$r" "$BASE_RTT") | ${CYC_A[$label]:-n/a} / ${CYC_B[$label]:-n/a} | ${SCYC_A[$label]:-n/a} / ${SCYC_B[$label]:-n/a} |"
done
echo
echo "UDP, iperf3 -u -b 0 -l 1400 for $DURATION s (one run, as is): datagrams per second the receiver got, and the share the sender's rate lost"
echo
echo "| path | datagrams/s received | ratio to wireguard-go | lost |"
echo "|---|---|---|---|"
for label in "${ROWS[@]}"; do
  [[ $label == "veth (no tunnel)" ]] && continue
  echo "| $label | ${UDP_PPS[$label]:-n/a} | $(ratio "${UDP_PPS[$label]:-n/a}" "${UDP_PPS["wireguard-go <-> wireguard-go"]:-n/a}") | ${UDP_LOSS[$label]:-n/a}% |"
done
echo
echo "- Trellis <-> Trellis, UDP GSO/GRO on / off: $(ratio "${GBITS["Trellis <-> Trellis"]}" "${GBITS["Trellis <-> Trellis, UDP GSO/GRO off"]}"); with setsid: $(ratio "${SGBITS["Trellis <-> Trellis"]}" "${SGBITS["Trellis <-> Trellis, UDP GSO/GRO off"]}")"
echo "- Trellis <-> Trellis, offloads on / off: $(ratio "${GBITS["Trellis <-> Trellis"]}" "${GBITS["Trellis <-> Trellis, offloads off"]}"); with setsid: $(ratio "${SGBITS["Trellis <-> Trellis"]}" "${SGBITS["Trellis <-> Trellis, offloads off"]}")"
echo "- cycles/byte: each daemon's CPU time during the iperf3 runs x $CPU_MHZ MHz / bytes A's tunnel sent (A sends, B receives)"
echo "- load average before / after: $LOAD_BEFORE / $(cut -d ' ' -f 1-3 /proc/loadavg)"
for label in "${ROWS[@]}"; do
  if [[ -n ${NOTE[$label]:-} ]]; then
    echo
    echo "- $label: n/a: ${NOTE[$label]}"
  fi
done
