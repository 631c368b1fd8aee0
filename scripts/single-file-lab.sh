#!/usr/bin/env bash
# Runs the lab tests against the published single file with .NET out of its sight: every `trellis` the
# lab starts (servers, relays, daemons, the CLI, `trellis demo` and what it starts) goes through a
# wrapper that hides /usr/share/dotnet and /usr/bin/dotnet in a mount namespace of its own, drops the
# .NET variables and refuses to run if `dotnet` can still be found. The test runner itself is xUnit
# under `dotnet test`, so the SDK stays on the machine; only the processes under test lose it.
# Usage: sudo scripts/single-file-lab.sh [TRELLIS_FILE] [-- DOTNET_TEST_ARGUMENTS...]
#   TRELLIS_FILE   a self-contained `trellis` (scripts/publish.sh writes one); default: publish this
#                  machine's platform into artifacts/single-file-lab first
#   after --       passed to `dotnet test` (e.g. --filter FullyQualifiedName~Trellis.Lab.Tests.PingTests)
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "run as root: the lab creates network namespaces and TUN devices" >&2; exit 1; }
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

FILE=
if [[ $# -gt 0 && $1 != -- ]]; then
  FILE=$(realpath "$1")
  shift
fi
[[ $# -eq 0 || $1 == -- ]] || { echo "usage: scripts/single-file-lab.sh [TRELLIS_FILE] [-- DOTNET_TEST_ARGUMENTS...]" >&2; exit 2; }
[[ $# -eq 0 ]] || shift

if [[ -z $FILE ]]; then
  case $(uname -m) in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) echo "no published platform for $(uname -m)" >&2; exit 1 ;;
  esac
  TRELLIS_RIDS=$rid "$REPO/scripts/publish.sh" "$REPO/artifacts/single-file-lab" >&2
  FILE="$REPO/artifacts/single-file-lab/$rid/trellis"
fi
[[ -x $FILE ]] || { echo "$FILE is not an executable" >&2; exit 1; }
if [[ $(head -c 2 "$FILE") == "#!" ]] || ! "$FILE" version >/dev/null; then
  echo "$FILE does not run as a single file" >&2
  exit 1
fi

work=$(mktemp -d /tmp/trl-single-file.XXXXXX)
trap 'rm -rf "$work"' EXIT
wrapper="$work/trellis"
# The wrapper's own mount namespace is private, so the hidden directories stay hidden only for it and
# its children; a tmpfs over the SDK's directory leaves /usr/bin/dotnet a dangling link.
cat >"$wrapper" <<EOF
#!/bin/sh
exec unshare --mount --propagation private -- env -u DOTNET_ROOT -u DOTNET_ROOT_X64 -u DOTNET_ROOT_ARM64 -u DOTNET_HOST_PATH -u MSBuildExtensionsPath -u MSBuildSDKsPath \\
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh -ec '
  for dir in /usr/share/dotnet /usr/lib/dotnet /root/.dotnet; do
    if [ -d "\$dir" ]; then mount -t tmpfs -o ro,size=4k none "\$dir"; fi
  done
  if command -v dotnet >/dev/null 2>&1; then echo "single-file-lab: dotnet is still reachable" >&2; exit 70; fi
  exec "\$0" "\$@"
' "$FILE" "\$@"
EOF
chmod 0755 "$wrapper"
"$wrapper" version

echo "[single-file-lab] the lab's trellis: $FILE, through $wrapper (no .NET in sight)" >&2
export TRELLIS_BIN=$wrapper
dotnet test "$REPO/tests/Trellis.Lab.Tests" "$@"
