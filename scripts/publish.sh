#!/usr/bin/env bash
# Publishes `trellis` as one self-contained executable per platform: nothing else to copy, no .NET on the
# target. Native libraries (libsodium, SQLite) travel inside the file and are unpacked on first start
# (to $DOTNET_BUNDLE_EXTRACT_BASE_DIR, else ~/.net, else the temp directory).
# Beside it, for the platform of this machine, `trellis-node`: the node daemon and its verbs compiled
# ahead of time (NativeAOT: no JIT, a fraction of the memory; needs clang and zlib's headers). NativeAOT
# does not cross-compile without the target's sysroot, so other platforms get `trellis` only.
# Usage: scripts/publish.sh [OUTPUT_DIR] (default artifacts/publish); TRELLIS_RIDS="linux-x64" for one platform.
# Prints each file's size. Build objects go under OUTPUT_DIR/build, apart from the tree's Debug build.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath -m "${1:-$REPO/artifacts/publish}")
RIDS=${TRELLIS_RIDS:-"linux-x64 linux-arm64"}
case $(uname -m) in
  x86_64) HOST_RID=linux-x64 ;;
  aarch64) HOST_RID=linux-arm64 ;;
  *) HOST_RID= ;;
esac
# NativeAOT links with `clang`; Debian names it clang-NN unless the clang package adds the plain name.
LINKER=()
if ! command -v clang >/dev/null; then
  versioned=$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)
  [ -z "$versioned" ] || LINKER=("-p:CppCompilerAndLinker=$versioned")
fi

for rid in $RIDS; do
  start=$(date +%s)
  # ReadyToRun for Trellis and its packages, each assembly compiled on its own (not the SDK's default for a
  # single file, one composite image with the runtime: 39 MiB more file and 14 MiB more resident for 2.3 MiB
  # less JIT code); the runtime's assemblies come precompiled in its pack. Tiered PGO off, in this file's
  # runtimeconfig only: the JIT-run server kept compiling as its periodic work reached new paths and grew
  # for 40 minutes (docs/BENCHMARKS.md, "Soak"). The tree's builds keep PGO. Crossgen2 runs on this
  # machine and targets either platform.
  PRECOMPILE=(-p:PublishReadyToRun=true -p:PublishReadyToRunComposite=false -p:TieredPGO=false)
  dotnet publish "$REPO/src/Trellis.Cli/Trellis.Cli.csproj" -c Release -r "$rid" --self-contained \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true "${PRECOMPILE[@]}" -p:DebugType=none \
    --artifacts-path "$OUT/build" -o "$OUT/$rid" -nologo -v quiet
  echo "published $rid in $(( $(date +%s) - start )) s"
  if [ "$rid" = "$HOST_RID" ]; then
    start=$(date +%s)
    dotnet publish "$REPO/src/Trellis.NodeCli/Trellis.NodeCli.csproj" -c Release -r "$rid" "${LINKER[@]}" -p:DebugType=none \
      --artifacts-path "$OUT/build" -o "$OUT/$rid" -nologo -v quiet
    echo "published trellis-node (NativeAOT) $rid in $(( $(date +%s) - start )) s"
  fi
done

echo
printf '%-12s %10s  %s\n' PLATFORM MIB FILE
for rid in $RIDS; do
  for file in "$OUT/$rid/trellis" "$OUT/$rid/trellis-node"; do
    [ -f "$file" ] || continue
    bytes=$(stat -c %s "$file")
    printf '%-12s %10s  %s\n' "$rid" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" "$file"
  done
done
