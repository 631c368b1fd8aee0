#!/usr/bin/env bash
# Relay benchmarks: throughput between two clients through one relay (1200-byte and ~64 KiB packets,
# Gbit/s and CPU seconds per Gbit), and the relay's memory per idle connection.
# The relay runs in its own process; both clients share another. Usage:
#   bench/relay-bench.sh [SECONDS_PER_RUN] [RUNS] [IDLE_CONNECTIONS]   (default: 5 3 5000)
# PIN=1 pins the throughput runs' relay to CPU 0 and the clients to CPU 1 (Gbit/s per relay core);
# by default both processes run on any core.
# ALLOC_TRACE=1 makes the relay print which types it allocated (stderr) when it exits.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_RUN=${1:-5}
RUNS=${2:-3}
IDLE=${3:-5000}
# Each idle connection is a socket in both processes.
ulimit -n "$(ulimit -Hn)"

echo "[bench] building (Release)" >&2
dotnet build -c Release -v quiet -nologo "$REPO/bench/Trellis.RelayBench" >/dev/null
BENCH="$REPO/bench/Trellis.RelayBench/bin/Release/net10.0/Trellis.RelayBench"

echo "## Relay throughput"
echo
echo "- kernel $(uname -r)"
if [[ ${PIN:-0} == 1 ]]; then
  "$BENCH" throughput "$SECONDS_PER_RUN" "$RUNS" --pin
else
  "$BENCH" throughput "$SECONDS_PER_RUN" "$RUNS"
fi
echo
echo "## Relay idle connections"
echo
"$BENCH" idle "$IDLE"
