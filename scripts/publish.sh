#!/usr/bin/env bash
# Publishes `trellis` as one self-contained executable per platform: nothing else to copy, no .NET on the
# target. Native libraries (libsodium, SQLite) travel inside the file and are unpacked on first start
# (to $DOTNET_BUNDLE_EXTRACT_BASE_DIR, else ~/.net, else the temp directory).
# Beside it `trellis-node`: the node daemon and its verbs compiled ahead of time (NativeAOT: no JIT, a
# fraction of the memory; needs clang and zlib's headers). For this machine's platform always; for the
# other one when clang can link for it here (on Debian x86-64 for arm64: binutils-aarch64-linux-gnu,
# libc6-dev:arm64 and libgcc-12-dev:arm64 after `dpkg --add-architecture arm64`), else `trellis` only.
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

# True when NativeAOT can link for RID here: the host's own platform, or a C program links for it with
# the flags the ILCompiler's targets pass when cross-compiling (--target, the bfd linker).
CLANG=clang
[ ${#LINKER[@]} -eq 0 ] || CLANG=${LINKER[0]#-p:CppCompilerAndLinker=}
can_link_for() {
  [ "$1" = "$HOST_RID" ] && return 0
  local triple probe ok=1
  case $1 in
    linux-arm64) triple=aarch64-linux-gnu ;;
    linux-x64) triple=x86_64-linux-gnu ;;
    *) return 1 ;;
  esac
  probe=$(mktemp -d)
  echo 'int main(void) { return 0; }' > "$probe/probe.c"
  "$CLANG" --target="$triple" -fuse-ld=bfd -pie -pthread "$probe/probe.c" -lm -ldl -lrt -o "$probe/probe" >/dev/null 2>&1 && ok=0
  rm -rf "$probe"
  return $ok
}

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
  if can_link_for "$rid"; then
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
