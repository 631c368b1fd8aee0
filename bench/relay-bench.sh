#!/usr/bin/env bash
# Relay benchmarks: throughput between two clients through one relay (1200-byte and ~64 KiB packets,
# Gbit/s and CPU seconds per Gbit), and the relay's memory per idle connection.
# The relay runs in its own process; both clients share another. Usage:
#   bench/relay-bench.sh [SECONDS_PER_RUN] [RUNS] [IDLE_CONNECTIONS]   (default: 5 3 5000)
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
"$BENCH" throughput "$SECONDS_PER_RUN" "$RUNS"
echo
echo "## Relay idle connections"
echo
"$BENCH" idle "$IDLE"
