#!/usr/bin/env bash
# Runs the linux-arm64 single file on this x86-64 machine under qemu-user (on an arm64 machine: natively):
# `trellis --version`, `trellis server` until it listens and answers /health, the admin verbs over the
# server's admin socket and over HTTP with an API key, and one node (`trellis daemon`, or the NativeAOT
# `trellis-node daemon` where the publish holds it) registered with an auth key until the server lists
# it. Server and node run in a network namespace of their own (the node's TUN device goes with it).
# Under qemu-user the node step stops at the daemon's first socket: the emulator does not implement
# SO_MARK; the script says so and passes on the rest.
# Installs what it lacks with apt (root, Debian): qemu-user-static, and the arm64 libraries the runtime
# loads (libc, libstdc++, libgcc, OpenSSL) as multiarch packages. Publishes linux-arm64 with
# scripts/publish.sh unless PUBLISH_DIR/linux-arm64/trellis exists.
# Usage: sudo scripts/check-arm64.sh [PUBLISH_DIR]   (default artifacts/publish). Ends with PASS or FAIL.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PUBLISHED=$(realpath -m "${1:-$REPO/artifacts/publish}")
# Under emulation every step is 5 to 20 times slower than native; these are safety nets only.
START_TIMEOUT=${TRELLIS_ARM64_START_TIMEOUT:-300}
STEP_TIMEOUT=${TRELLIS_ARM64_STEP_TIMEOUT:-180}

fail() { echo "FAIL: $*" >&2; exit 1; }

if [ "${TRELLIS_ARM64_INSIDE:-}" != 1 ]; then
  [ "$EUID" -eq 0 ] || fail "run as root: it installs packages and creates a network namespace"
  case $(uname -m) in
    aarch64) EMULATOR= ;;
    x86_64) EMULATOR=qemu-aarch64-static ;;
    *) fail "this machine ($(uname -m)) can neither run nor emulate arm64 here" ;;
  esac

  # The arm64 libraries come from the mirror as NAME:arm64 beside the host's own (multiarch), so the
  # emulator finds them under /lib/aarch64-linux-gnu without a separate root. The executable links libc,
  # libstdc++ and libgcc_s and loads OpenSSL (hashes, TLS); no ICU (invariant globalization) and no
  # zlib (the runtime carries its own).
  wanted=(libc6 libstdc++6 libgcc-s1 libssl3)
  [ "$(uname -m)" = aarch64 ] || wanted=("${wanted[@]/%/:arm64}" qemu-user-static)
  command -v curl >/dev/null || wanted+=(curl)
  missing=()
  for package in "${wanted[@]}"; do
    dpkg-query -W -f '${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    if [ "$(uname -m)" != aarch64 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
      dpkg --add-architecture arm64
    fi
    apt-get update -qq
    # --no-remove: an arm64 library must never displace the host's own packages (it may upgrade the
    # host's twin of it to the same version, which multiarch requires).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-remove "${missing[@]}" >/dev/null
  fi

  if [ ! -x "$PUBLISHED/linux-arm64/trellis" ]; then
    echo "publishing linux-arm64 into $PUBLISHED"
    TRELLIS_RIDS=linux-arm64 "$REPO/scripts/publish.sh" "$PUBLISHED"
  fi

  export TRELLIS_ARM64_INSIDE=1 TRELLIS_ARM64_EMULATOR=$EMULATOR
  exec unshare --net --fork -- "${BASH_SOURCE[0]}" "$PUBLISHED"
fi

# In a network namespace of our own from here on: nothing else listens on its loopback.
ip link set lo up
read -r -a RUN <<< "${TRELLIS_ARM64_EMULATOR:-}"
TRELLIS=$PUBLISHED/linux-arm64/trellis
NODE_BIN=$TRELLIS
[ -x "$PUBLISHED/linux-arm64/trellis-node" ] && NODE_BIN=$PUBLISHED/linux-arm64/trellis-node
WORK=$(mktemp -d /tmp/trl-arm64.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# The single file unpacks its native libraries (libsodium, SQLite) here instead of ~/.net.
export DOTNET_BUNDLE_EXTRACT_BASE_DIR=$WORK/extract

# Runs an arm64 executable under the emulator (if any), failing on a timeout or a non-zero exit.
arm64() {
  local out
  if ! out=$(timeout "$STEP_TIMEOUT" "${RUN[@]}" "$@" 2>&1); then
    echo "$out" >&2
    fail "$(basename "$1") ${*:2} did not succeed"
  fi
  printf '%s\n' "$out"
}

# Waits until FILE holds PATTERN (or the process PID ends, or SECONDS pass); prints the milliseconds waited.
wait_for() {
  local file=$1 pattern=$2 pid=$3 seconds=$4 what=$5 start
  start=$(date +%s%N)
  until grep -q -- "$pattern" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; fail "$what exited"; }
    [ $(( ($(date +%s%N) - start) / 1000000000 )) -lt "$seconds" ] || { cat "$file" >&2; fail "$what: no '$pattern' within $seconds s"; }
    sleep 0.2
  done
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}

echo "== $TRELLIS ($(( $(stat -c %s "$TRELLIS") / 1048576 )) MiB) via ${RUN[*]:-this machine}"
version=$(arm64 "$TRELLIS" --version)
echo "$version"
grep -Eq '^runtime \.NET [0-9].* linux-arm64$' <<< "$version" || fail "trellis --version does not name the linux-arm64 runtime"
if [ "$NODE_BIN" != "$TRELLIS" ]; then
  echo "== $NODE_BIN (NativeAOT)"
  node_version=$(arm64 "$NODE_BIN" --version)
  echo "$node_version"
  grep -Eq '^runtime \.NET [0-9].* linux-arm64$' <<< "$node_version" || fail "trellis-node --version does not name the linux-arm64 runtime"
fi

echo "== trellis server"
PORT=8080
URL=http://127.0.0.1:$PORT
"${RUN[@]}" "$TRELLIS" server --listen "$URL" --data-dir "$WORK/server" --stun-port 0 > "$WORK/server.log" 2>&1 &
PIDS+=($!)
ms=$(wait_for "$WORK/server.log" "listening on" "${PIDS[-1]}" "$START_TIMEOUT" "trellis server")
echo "listening after $ms ms (start of the process to 'listening on')"
health=$(curl -fsS --max-time 30 "$URL/health") || fail "GET /health did not answer"
echo "GET /health: $health"
grep -q '"ok"' <<< "$health" || fail "/health is not ok"
server_key=$(sed -n 's/.*server key: *\([^ ]*\).*/\1/p' "$WORK/server.log" | head -n 1)

echo "== admin verbs (admin socket, then HTTP with an API key)"
admin=(--admin-socket "$WORK/server/admin.sock")
arm64 "$TRELLIS" users create alice "${admin[@]}" > /dev/null
authkey=$(arm64 "$TRELLIS" authkeys create --user alice --expiration 1h "${admin[@]}" | tail -n 1)
[[ $authkey == trellis-auth-* ]] || fail "authkeys create printed '$authkey'"
apikey=$(arm64 "$TRELLIS" apikeys create "${admin[@]}" | tail -n 1)
[ -n "$apikey" ] || fail "apikeys create printed nothing"
arm64 "$TRELLIS" users list --server "$URL" --api-key "$apikey" | grep -q alice || fail "users list over HTTP does not show alice"
echo "user alice, an auth key and an API key created; users list over HTTP shows alice"

echo "== node: $(basename "$NODE_BIN") daemon, then trellis up"
socket=$WORK/node.sock
"${RUN[@]}" "$NODE_BIN" daemon --state-dir "$WORK/node" --socket "$socket" --tun trl-arm64 --port 0 > "$WORK/daemon.log" 2>&1 &
PIDS+=($!)
# qemu-user (7.2 and 10.0 tried) refuses SO_MARK, which the daemon sets on every underlay socket so that
# exit-node routing never sends the tunnel into itself: under emulation the daemon stops there.
deadline=$(( $(date +%s) + START_TIMEOUT ))
until grep -q "local API on" "$WORK/daemon.log" 2>/dev/null || ! kill -0 "${PIDS[-1]}" 2>/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || { cat "$WORK/daemon.log" >&2; fail "the node daemon: no local API within $START_TIMEOUT s"; }
  sleep 0.2
done
if [ ${#RUN[@]} -gt 0 ] && grep -q 'SO_MARK.*errno 92' "$WORK/daemon.log"; then
  cat "$WORK/daemon.log"
  echo "PASS: linux-arm64 trellis runs under ${RUN[*]}: version, server, admin verbs." \
    "The node daemon was not run: the emulator does not implement SO_MARK (an arm64 machine runs this step)"
  exit 0
fi
grep -q "local API on" "$WORK/daemon.log" || { cat "$WORK/daemon.log" >&2; fail "the node daemon exited"; }
up=(up --socket "$socket" --server "$URL" --authkey "$authkey" --hostname arm64-node)
[ -z "$server_key" ] || up+=(--server-key "$server_key")
arm64 "$NODE_BIN" "${up[@]}"
arm64 "$NODE_BIN" status --socket "$socket"
nodes=$(arm64 "$TRELLIS" nodes list "${admin[@]}")
echo "$nodes"
grep -q arm64-node <<< "$nodes" || fail "nodes list does not show arm64-node"

echo "PASS: linux-arm64 trellis runs ${RUN[*]:+under ${RUN[*]}}: version, server, admin verbs, one node registered"
