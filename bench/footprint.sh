#!/usr/bin/env bash
# The node daemon's footprint: one `trellis server`, simulated peers on the real control protocol, and
# one real daemon in a network namespace that joins them, once per runtime variant (today's settings
# first, then each GC/JIT knob alone, then all together). Its resident memory (anonymous and
# file-backed), threads and time from start to a listening local API are read after SETTLE seconds with
# the peers in its map. Also the server's memory at each peer count. Needs root (namespace, TUN).
# Usage: bench/footprint.sh [SETTLE_SECONDS [PEERS ...]]   (default: 60 3 100)
#   TRELLIS_NODE_BIN=DIR/trellis-node  adds the NativeAOT daemon (scripts/publish.sh writes it) as the last
#                                      variant of the same run, beside today's JIT daemon
#   FOOTPRINT_KNOBS=0                  leaves out the GC and JIT knob variants
#   TRELLIS_NODE_ANCHOR=PATH           the anchor's daemon, run just before TRELLIS_NODE_BIN: another
#                                      `trellis-node` (e.g. main's) or an older JIT-run `trellis`
#   FOOTPRINT_AOT_KNOBS="DOTNET_X=V ..."  runs TRELLIS_NODE_BIN once more per setting, with that variable
#   FOOTPRINT_SMAPS=DIR                keeps each daemon's /proc/PID/smaps and thread names in DIR
# Start to listening: until the local API's socket accepts; to running: until its status says running
# (a restarted daemon reconnecting by itself; the first one registers instead). Both polled every 2 ms.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SETTLE=${1:-60}
shift || true
COUNTS=("$@")
[[ ${#COUNTS[@]} -gt 0 ]] || COUNTS=(3 100)

echo "[bench] building (Release)" >&2
dotnet build -c Release -v quiet -nologo "$REPO/src/Trellis.Cli" >/dev/null
dotnet build -c Release -v quiet -nologo "$REPO/bench/Trellis.Footprint" >/dev/null
TRELLIS="$REPO/src/Trellis.Cli/bin/Release/net10.0/trellis"
FOOTPRINT="$REPO/bench/Trellis.Footprint/bin/Release/net10.0/Trellis.Footprint"

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
"$FOOTPRINT" "$TRELLIS" "$SETTLE" "${COUNTS[@]}" >"$rows"

echo "## Node daemon footprint"
echo
echo "- dotnet $(dotnet --version), kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the end; memory read ${SETTLE} s after the daemon's map held every peer"
[[ -z ${TRELLIS_NODE_BIN:-} ]] || echo "- NativeAOT daemon: $TRELLIS_NODE_BIN ($(stat -c %s "$TRELLIS_NODE_BIN") bytes)"
[[ -z ${TRELLIS_NODE_ANCHOR:-} ]] || echo "- anchor: $TRELLIS_NODE_ANCHOR ($(stat -c %s "$TRELLIS_NODE_ANCHOR") bytes)"
echo
echo "| runtime variant | peers | start to listening (ms) | start to running (ms) | RSS (MiB) | anonymous (MiB) | file-backed (MiB) | GC heap (MiB) | threads |"
echo "|---|---|---|---|---|---|---|---|---|"
sed -n 's/^D|\(.*\)$/| \1 |/p' "$rows"
echo
echo "| simulated peers | server RSS (MiB) | server peak (MiB) |"
echo "|---|---|---|"
sed -n 's/^S|\(.*\)$/| \1 |/p' "$rows"
