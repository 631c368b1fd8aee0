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
# TRELLIS_BIN=path/to/trellis runs the server from that executable (e.g. the single file scripts/publish.sh
# makes, which operators run) instead of the tree's Release build.
# PORT=first listen port (default 18443; one more per size, REPLICAS more with replicas); the server runs without STUN.
# REPLICAS=R (default 1: one server on SQLite) runs R servers as replicas of one fresh PostgreSQL
# database on the local cluster (its Unix socket /var/run/postgresql, as the user running this),
# dropped at the end, and spreads the nodes over them round-robin. Every change is made through the
# first replica and its row counts the nodes on all of them, then is split into the nodes on that
# replica and on the others; CPU and memory are the servers' sum and, in brackets, the largest one's.
# Usage: [ANNOUNCE=half] [PORT=P] [REPLICAS=3] bench/control-scale.sh [N ...]   (default: 1000 5000)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIZES=("$@")
[[ ${#SIZES[@]} -gt 0 ]] || SIZES=(1000 5000)
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "[bench] building (Release)" >&2
# shellcheck source=bench/lib/common.sh
source "$REPO/bench/lib/common.sh"
release_trellis "$REPO"
dotnet build -c Release -v quiet -nologo "$REPO/bench/Trellis.ControlScale" >/dev/null
SCALE="$REPO/bench/Trellis.ControlScale/bin/Release/net10.0/Trellis.ControlScale"

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
status=0
port=${PORT:-18443}
replicas=${REPLICAS:-1}
for n in "${SIZES[@]}"; do
  "$SCALE" "$TRELLIS" "$n" "$port" "${ANNOUNCE:-all}" "$replicas" >>"$rows" || status=1
  port=$((port + replicas))
done

if [[ $replicas -gt 1 ]]; then
  servers="$replicas replicas on one PostgreSQL $(psql -h /var/run/postgresql -d postgres -tAc 'SHOW server_version' | cut -d' ' -f1) database (local, Unix socket), nodes spread round-robin, every change made through the first"
  cpu="servers' CPU, sum (largest) (s)"
  joins="servers' CPU for the joins, sum (largest) (s)"
  joined="servers' RSS / peak after the joins, sum (largest) (MiB)"
  ended="servers' RSS / peak at the end, sum (largest) (MiB)"
else
  servers="one server on SQLite"
  cpu="server CPU (s)"
  joins="server CPU for the joins (s)"
  joined="server RSS / peak after the joins (MiB)"
  ended="server RSS / peak at the end (MiB)"
fi

echo "## Control-plane scale"
echo
echo "- dotnet $(dotnet --version), kernel $(uname -r), $(nproc) cores; server and all simulated nodes on this machine; $servers; server executable: ${TRELLIS_BIN:-the Release build of this tree}; nodes announcing kept ids: ${ANNOUNCE:-all}; server environment: ${SERVER_ENV:-none}"
echo
echo "| nodes | change | nodes it must reach | p50 / p99 / max (ms) | $cpu | missed | reached, not affected |"
echo "|---|---|---|---|---|---|---|"
sed -n 's/^P|/|/p' "$rows"
echo
echo "| nodes | join all (s) | failed joins | $joins | largest full map (KiB) | $joined | $ended | peers a node sees under the policy (mean) |"
echo "|---|---|---|---|---|---|---|---|"
sed -n 's/^M|/|/p' "$rows"
exit $status
