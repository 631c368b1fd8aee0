#!/usr/bin/env bash
# Control-plane scale: N simulated nodes on the real protocol (WebSocket + Noise + framed JSON) against
# one `trellis server` process; from one change (a node's endpoints; a node joining), the time until
# every other node has it (p50 / p99 / max ms), the server's CPU seconds for it, and its peak memory.
# Usage: bench/control-scale.sh [N ...]   (default: 1000 5000)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(1000 5000)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "[bench] building (Release)" >&2
dotnet build -c Release -v quiet -nologo "$REPO/src/Trellis.Cli" >/dev/null
dotnet build -c Release -v quiet -nologo "$REPO/bench/Trellis.ControlScale" >/dev/null
TRELLIS="$REPO/src/Trellis.Cli/bin/Release/net10.0/trellis"
SCALE="$REPO/bench/Trellis.ControlScale/bin/Release/net10.0/Trellis.ControlScale"

echo "## Control-plane scale"
echo
echo "- dotnet $(dotnet --version), kernel $(uname -r), $(nproc) cores; server and all simulated nodes on this machine"
echo
echo "| nodes | join all (s) | server CPU for joins (s) | endpoint change p50 / p99 / max (ms) | server CPU (s) | node join p50 / p99 / max (ms) | server CPU (s) | server peak RSS (MiB) | missed |"
echo "|---|---|---|---|---|---|---|---|---|"
port=18443
for n in "${SIZES[@]}"; do
  "$SCALE" "$TRELLIS" "$n" "$port"
  port=$((port + 1))
done
