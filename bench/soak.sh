#!/usr/bin/env bash
# Soak: the demo's four-city mesh (NAT lab, `trellis server`, four daemons in network namespaces) with a
# ring of pings through the tunnels, left running for MINUTES (default 60). Every minute it reads each
# process's resident memory (/proc) and its GC heap after the latest collection (a daemon's from its
# status, memory.gcHeapBytes, JIT or NativeAOT; the JIT-run server's from dotnet-counters); it prints them
# as a table, then each process's growth after minute 5, and what its resident memory was made of then and at
# the end (JIT code and loader heaps, anonymous, files: code compiled late shows apart from objects). Needs root.
# Usage: bench/soak.sh [MINUTES [GCDUMP_DIR]]
#   TRELLIS_BIN=path/to/trellis            runs the server (and the admin verbs, and the daemons unless
#                                          TRELLIS_NODE_BIN is set) with that executable, e.g. the single file
#                                          scripts/publish.sh writes, what operators run; else the tree's
#                                          Release build of `trellis`.
#   TRELLIS_NODE_BIN=path/to/trellis-node  runs the daemons with that executable (e.g. the NativeAOT one
#                                          scripts/publish.sh writes).
#   GCDUMP_DIR                             dumps every JIT-run process's heap (dotnet-gcdump) after minute 5
#                                          and at the end, to compare what grew (dotnet-gcdump report FILE).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINUTES=${1:-60}
DUMPS=${2:-}
[[ $MINUTES =~ ^[1-9][0-9]*$ ]] || { echo "MINUTES must be a positive number" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "bench/soak.sh: run as root (namespaces, TUN devices)" >&2; exit 1; }

echo "[soak] building (Release)" >&2
# shellcheck source=bench/lib/common.sh
source "$REPO/bench/lib/common.sh"
release_trellis "$REPO"
dotnet build -c Release -v quiet -nologo "$REPO/bench/Trellis.Soak" >/dev/null
NODE=${TRELLIS_NODE_BIN:--}

echo "## Soak: the four-city mesh for $MINUTES minutes"
echo
echo "- dotnet $(dotnet --version), kernel $(uname -r), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at the start; server: $TRELLIS; daemons: ${TRELLIS_NODE_BIN:-$TRELLIS}"
echo
"$REPO/bench/Trellis.Soak/bin/Release/net10.0/Trellis.Soak" "$TRELLIS" "$NODE" "$MINUTES" $DUMPS
echo
echo "- load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
