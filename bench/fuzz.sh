#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that reads untrusted bytes: installs AFL++ (Debian's afl++)
# and the SharpFuzz CLI if absent, publishes trellis-fuzz (Release), instruments the Trellis
# assemblies with SharpFuzz, runs afl-fuzz on each target for SECONDS from its corpus in fuzz/corpus,
# and prints a table: target, executions, execs/s, corpus size (paths), crashes, hangs. Usage:
#   bench/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60 s, every target)
# Work and findings go to artifacts/fuzz/ (bin/, out/TARGET/default/{queue,crashes,hangs}). A crash:
#   dotnet run --project fuzz/Trellis.Fuzz -- replay TARGET FILE    (prints the exception)
# (the instrumented build in artifacts/fuzz/bin only runs under afl-fuzz), then fix the parser and
# copy FILE into fuzz/corpus/TARGET/crash-WHAT, so CI replays it for good.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_TARGET=${1:-60}
shift $(( $# > 0 ? 1 : 0 ))
WORK="$REPO/artifacts/fuzz"
SHARPFUZZ_VERSION=2.3.0
# Instrumented for coverage: our own assemblies (the framework's JSON and XML readers are not, so the
# fuzzer is guided by our code around them).
INSTRUMENT=(Trellis.Core Trellis.Net Trellis.Relay Trellis.Discovery Trellis.WireGuard Trellis.Node)
mkdir -p "$WORK/out"

if ! command -v afl-fuzz >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "[fuzz] afl-fuzz is missing: run 'sudo apt-get install afl++' (Debian) and try again" >&2
        exit 1
    fi
    echo "[fuzz] installing afl++ (apt)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
fi

if [ ! -x "$WORK/tools/sharpfuzz" ]; then
    echo "[fuzz] installing the SharpFuzz CLI $SHARPFUZZ_VERSION into artifacts/fuzz/tools" >&2
    dotnet tool install SharpFuzz.CommandLine --version "$SHARPFUZZ_VERSION" --tool-path "$WORK/tools" >/dev/null
fi

# Instrumentation rewrites the assemblies in place: start from a fresh publish every time.
echo "[fuzz] publishing trellis-fuzz (Release) and instrumenting ${INSTRUMENT[*]}" >&2
rm -rf "$WORK/bin"
dotnet publish "$REPO/fuzz/Trellis.Fuzz" -c Release -o "$WORK/bin" -v quiet -nologo >/dev/null
for assembly in "${INSTRUMENT[@]}"; do
    "$WORK/tools/sharpfuzz" "$WORK/bin/$assembly.dll" >/dev/null
done

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <("$WORK/bin/trellis-fuzz" list | awk '{print $1}')
fi

# trellis-fuzz is a .NET apphost, not a binary built by afl-cc: SharpFuzz speaks the fork-server
# protocol itself (in-process, persistent), so afl-fuzz's check for its compile-time marker is skipped.
# No memory limit (-m none): the runtime reserves far more address space than it uses. Exec timeout
# 5 s (-t): generous for two busy shared cores, and the WireGuard target's first input, which waits
# for a real handshake. Not pinned to a core: the cores are shared with other work.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$2"; }

# afl-fuzz now and then sees an empty coverage map on the very first input of a fresh process and
# aborts with "No instrumentation detected"; a second start goes through.
fuzz_one() {
    local target=$1 out="$WORK/out/$1" attempt
    for attempt in 1 2 3; do
        rm -rf "$out"
        if timeout $((SECONDS_PER_TARGET + 300)) afl-fuzz -i "$REPO/fuzz/corpus/$target" -o "$out" -t 5000 -m none -V "$SECONDS_PER_TARGET" \
            -- "$WORK/bin/trellis-fuzz" run "$target" >"$WORK/out/$target.log" 2>&1; then
            return 0
        fi
        grep -q "No instrumentation detected" "$WORK/out/$target.log" || return 1
        echo "[fuzz] $target: afl-fuzz saw no coverage on its first input (attempt $attempt); starting it again" >&2
    done
    return 1
}

ROWS=()
for target in "${TARGETS[@]}"; do
    echo "[fuzz] $target: ${SECONDS_PER_TARGET} s" >&2
    fuzz_one "$target" || {
        echo "[fuzz] afl-fuzz failed for $target; the end of artifacts/fuzz/out/$target.log:" >&2
        tail -5 "$WORK/out/$target.log" >&2
        ROWS+=("| $target | afl-fuzz failed | | | | | |")
        continue
    }
    out="$WORK/out/$target"
    stats="$out/default/fuzzer_stats"
    execs=$(stat execs_done "$stats")
    runtime=$(stat run_time "$stats")
    crashes=$(stat saved_crashes "$stats")
    hangs=$(stat saved_hangs "$stats")
    ROWS+=("| $target | $execs | $(( execs / (runtime > 0 ? runtime : 1) )) | $(stat corpus_count "$stats") | $(stat edges_found "$stats") | $(stat stability "$stats") | ${crashes:-0} | ${hangs:-0} |")
done

echo "## Fuzzing (${SECONDS_PER_TARGET} s per target)"
echo
echo "- $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r), $(afl-fuzz -h 2>&1 | grep -o 'afl-fuzz++[0-9a-z.]*' | head -1), SharpFuzz $SHARPFUZZ_VERSION"
echo
echo "| target | executions | execs/s | corpus (paths) | edges | stability | crashes | hangs |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
found=$(find "$WORK/out" -path '*/crashes/id:*' -o -path '*/hangs/id:*' 2>/dev/null | sort)
if [ -n "$found" ]; then
    echo
    echo "Findings (replay with: dotnet run --project fuzz/Trellis.Fuzz -- replay TARGET FILE):"
    echo "$found" | sed "s|$REPO/||"
fi
