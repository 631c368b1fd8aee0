#!/usr/bin/env bash
# Publishes `trellis` as one self-contained executable per platform: nothing else to copy, no .NET on the
# target. Native libraries (libsodium, SQLite) travel inside the file and are unpacked on first start
# (to $DOTNET_BUNDLE_EXTRACT_BASE_DIR, else ~/.net, else the temp directory).
# Usage: scripts/publish.sh [OUTPUT_DIR] (default artifacts/publish); TRELLIS_RIDS="linux-x64" for one platform.
# Prints each file's size. Build objects go under OUTPUT_DIR/build, apart from the tree's Debug build.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath -m "${1:-$REPO/artifacts/publish}")
RIDS=${TRELLIS_RIDS:-"linux-x64 linux-arm64"}

for rid in $RIDS; do
  start=$(date +%s)
  dotnet publish "$REPO/src/Trellis.Cli/Trellis.Cli.csproj" -c Release -r "$rid" --self-contained \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:DebugType=none \
    --artifacts-path "$OUT/build" -o "$OUT/$rid" -nologo -v quiet
  echo "published $rid in $(( $(date +%s) - start )) s"
done

echo
printf '%-12s %10s  %s\n' PLATFORM MIB FILE
for rid in $RIDS; do
  file="$OUT/$rid/trellis"
  bytes=$(stat -c %s "$file")
  printf '%-12s %10s  %s\n' "$rid" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" "$file"
done
