#!/usr/bin/env bash
# Control-plane scale: N simulated nodes on the real protocol (WebSocket + Noise + framed JSON) against
# one `trellis server` process. For each N, one server run: N nodes join (users in 30 groups, one node
# in five tagged with one of 20 tags), then, with no policy and after a 200-rule access policy is set
# through the admin API, from one change the time until every node it must reach has it (p50 / p99 /
# max ms), the server's CPU seconds for it, the nodes it missed and the nodes it reached that it
# should not have; and the server's memory.
# ANNOUNCE=all|half|none: which simulated nodes announce the kept-ids form of a delta (default all,
# as current nodes do; half also splits the first policy's row by the form each node was sent).
# SERVER_ENV="NAME=value ..." sets environment variables for the server process only (e.g. a GC setting to compare).
# PORT=first listen port (default 18443; one more per size); the server runs without STUN.
# Usage: [ANNOUNCE=half] [PORT=P] bench/control-scale.sh [N ...]   (default: 1000 5000)
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

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
status=0
port=${PORT:-18443}
for n in "${SIZES[@]}"; do
  "$SCALE" "$TRELLIS" "$n" "$port" "${ANNOUNCE:-all}" >>"$rows" || status=1
  port=$((port + 1))
done

echo "## Control-plane scale"
echo
echo "- dotnet $(dotnet --version), kernel $(uname -r), $(nproc) cores; server and all simulated nodes on this machine; nodes announcing kept ids: ${ANNOUNCE:-all}; server environment: ${SERVER_ENV:-none}"
echo
echo "| nodes | change | nodes it must reach | p50 / p99 / max (ms) | server CPU (s) | missed | reached, not affected |"
echo "|---|---|---|---|---|---|---|"
sed -n 's/^P|/|/p' "$rows"
echo
echo "| nodes | join all (s) | failed joins | server CPU for the joins (s) | largest full map (KiB) | server RSS / peak after the joins (MiB) | server RSS / peak at the end (MiB) | peers a node sees under the policy (mean) |"
echo "|---|---|---|---|---|---|---|---|"
sed -n 's/^M|/|/p' "$rows"
exit $status
