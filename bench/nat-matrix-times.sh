#!/usr/bin/env bash
# Runs the NAT matrix lab tests N times and prints, per row, the median and the maximum of the
# seconds from the first `trellis up` to the first packet both ways (ping) and to the final path
# (polled from the daemon's status, as `trellis status --json` prints it; through a CLI process per
# look before 2026-12-06's e5b5c8d, so older figures include that process's start), and of the seconds from both nodes being up until both directions
# took the path they end on (read from the daemons' local API every 50 ms), as docs/NAT-MATRIX.md
# quotes them. Needs root and what .ci/run installs (nftables, miniupnpd, ...).
# Usage: sudo bench/nat-matrix-times.sh [RUNS]   (default 10)
#   ROWS=FILE  keep every run's rows in FILE (appended) and compute the table over all of them, so
#              runs made in several sittings add up to one table
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-10}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "run as root (the lab builds network namespaces)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/trellis-natmatrix.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
ROWS=${ROWS:-$WORK/rows}

dotnet build -v quiet -nologo "$REPO/tests/Trellis.Lab.Tests" >/dev/null
for i in $(seq 1 "$RUNS"); do
  echo "[nat-matrix] run $i of $RUNS" >&2
  # A failed run still prints the rows it proved; say so rather than drop it silently. The lab runs
  # two test classes side by side in CI; here one at a time, so the times are the pairs' own.
  dotnet test "$REPO/tests/Trellis.Lab.Tests" --no-build --filter "FullyQualifiedName~NatTraversalTests|FullyQualifiedName~PortGuessingTests.An_easy_NAT" \
    --logger "console;verbosity=detailed" -- xUnit.ParallelizeTestCollections=false >"$WORK/run$i.log" 2>&1 || {
      kept=$(mktemp --suffix=.log /tmp/trellis-natmatrix-failed.XXXXXX)
      cp "$WORK/run$i.log" "$kept"
      echo "[nat-matrix] run $i had a failing test: its rows count, its log is $kept" >&2
    }
  grep -h "^ *NAT-MATRIX |" "$WORK/run$i.log" | sed 's/^ *//' >>"$ROWS" || true
done

echo "| pair | path | runs | first packet median / max (s) | final path median / max (s) | settled after both up median / max (s) |"
echo "|---|---|---|---|---|---|"
# Rows look like: NAT-MATRIX | left / right | path | first packet 2.2 s | path 2.4 s | settled 0.9 s after both up | ...
awk -F' *\\| *' '
  { key = $2 " | " $3; n[key]++; split($4, f, " "); split($5, p, " "); split($6, s, " ");
    first[key, n[key]] = f[3]; final[key, n[key]] = p[2]; settled[key, n[key]] = s[2]
    if (!(key in order)) { order[key] = ++rows; names[rows] = key } }
  function stat(arr, key, count,   i, j, t, v, med) {
    for (i = 1; i <= count; i++) v[i] = arr[key, i] + 0
    for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    med = (count % 2) ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    return sprintf("%.1f / %.1f", med, v[count])
  }
  END { for (r = 1; r <= rows; r++) { k = names[r]; printf "| %s | %d | %s | %s | %s |\n", k, n[k], stat(first, k, n[k]), stat(final, k, n[k]), stat(settled, k, n[k]) } }
' "$ROWS"
