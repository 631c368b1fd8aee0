# Shared by the bench scripts (sourced, not run).
# The sourcing script defines log and die first, and sets BUILD (1: publish a Release build into
# $WORK) before calling trellis_binary.

stop_pid() { # pid: SIGTERM, then SIGKILL after 10 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

median() { # numbers on stdin, one per line
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "n/a"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { # value baseline
  awk -v v="$1" -v b="$2" 'BEGIN {
    if (v == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.3f\n", v / b }'
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls every 0.2 s until COMMAND succeeds, else dies.
wait_for() {
  local seconds=$1 what=$2 i
  shift 2
  for ((i = 0; i < seconds * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what within $seconds s"
}

# trellis_binary REPO WORK: the trellis executable to run: $TRELLIS_BIN, else a Release publish into
# WORK (BUILD=1), else the Release build output of REPO.
trellis_binary() {
  local repo=$1 work=$2 binary=${TRELLIS_BIN:-}
  if [[ -z $binary ]]; then
    if [[ $BUILD -eq 1 ]]; then
      log "building Trellis (dotnet publish -c Release src/Trellis.Cli)"
      dotnet publish "$repo/src/Trellis.Cli" -c Release -o "$work/trellis" -nologo -v quiet >"$work/build.log" 2>&1 ||
        die "build failed: $(grep -m 3 -E 'error' "$work/build.log")"
      binary=$work/trellis/trellis
    else
      binary=$repo/src/Trellis.Cli/bin/Release/net10.0/trellis
    fi
  fi
  [[ -x $binary ]] || die "no trellis executable at $binary"
  echo "$binary"
}

# release_trellis REPO: sets TRELLIS to the trellis to measure: $TRELLIS_BIN when given (e.g. the single
# file scripts/publish.sh makes, which operators run), else the tree's Release build, built here.
release_trellis() {
  if [ -n "${TRELLIS_BIN:-}" ]; then
    [ -x "$TRELLIS_BIN" ] || { echo "TRELLIS_BIN: $TRELLIS_BIN is not an executable file" >&2; exit 2; }
    TRELLIS=$(realpath "$TRELLIS_BIN")
  else
    dotnet build -c Release -v quiet -nologo "$1/src/Trellis.Cli" >/dev/null
    TRELLIS="$1/src/Trellis.Cli/bin/Release/net10.0/trellis"
  fi
}
