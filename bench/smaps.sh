#!/usr/bin/env bash
# Where a process's resident memory is, by mapping: reads /proc/PID/smaps (or a saved copy) and prints
# the resident and anonymous KiB of each named mapping (summed over its segments), then the anonymous
# mappings one by one (heap, stacks, GC regions, malloc arenas have no name), largest first.
# Usage: bench/smaps.sh PID|SMAPS_FILE [TOP]   (TOP: how many anonymous mappings to list, default 15)
set -euo pipefail
source=$1
[[ -f $source ]] || source=/proc/$1/smaps
top=${2:-15}
awk -v top="$top" '
  /^[0-9a-f]+-[0-9a-f]+ / {
    name = (NF >= 6) ? $6 : "[anonymous " $1 " perms " $2 "]"
    if (NF >= 7) name = name " " $7
    next
  }
  /^Size:/ { size_of[name] += $2 }
  /^Rss:/ { rss[name] += $2; total += $2 }
  /^Anonymous:/ { anon[name] += $2; anontotal += $2 }
  END {
    printf "%-70s %10s %10s %10s\n", "mapping", "size KiB", "RSS KiB", "anon KiB"
    n = 0
    for (m in rss) if (m !~ /^\[anonymous /) lines[n++] = sprintf("%10d %-70s %10d %10d %10d", rss[m], m, size_of[m], rss[m], anon[m])
    for (m in rss) if (m ~ /^\[anonymous /) { named_anon += rss[m]; count++ }
    cmd = "sort -rn"
    for (i = 0; i < n; i++) print lines[i] | cmd
    close(cmd)
    printf "%-70s %10s %10d %10s\n", "(" count " unnamed anonymous mappings)", "", named_anon, ""
    printf "%-70s %10s %10d %10d\n", "total", "", total, anontotal
    print ""
    print "largest unnamed anonymous mappings (RSS KiB, size KiB):"
    m2 = 0
    for (m in rss) if (m ~ /^\[anonymous /) list[m2++] = sprintf("%10d %10d %s", rss[m], size_of[m], m)
    cmd = "sort -rn | head -n " top
    for (i = 0; i < m2; i++) print list[i] | cmd
    close(cmd)
  }' "$source" | sed -E 's/^ *[0-9]+ (.{70} )/\1/'
