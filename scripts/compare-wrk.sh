#!/usr/bin/env bash
# Benchmark, not a test: `claimbench load` (closed loop, maximum throughput) against wrk on the
# same fast target, under the same conditions: the generator pinned to one core (taskset), the
# target pinned to another, same connections, same duration, runs alternating between the tools.
# Prints each run and the totals: throughput ratio and CPU-seconds per 10,000 requests.
#
#   scripts/compare-wrk.sh                      # 3 runs each, 16 connections, 10 s
#   RUNS=5 CONNECTIONS=64 DURATION=20 scripts/compare-wrk.sh
#
# Needs wrk (`apt-get install -y wrk`) and two cores. CLAIMBENCH_BIN overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10}
GEN_CORE=${GEN_CORE:-0}
TARGET_CORE=${TARGET_CORE:-1}

command -v wrk >/dev/null || { echo "error: wrk not found: install it with apt-get install -y wrk" >&2; exit 2; }
command -v taskset >/dev/null || { echo "error: taskset not found: install util-linux" >&2; exit 2; }

cargo build --release --quiet -p claimbench-engine --example fast_target
target_dir=${CARGO_TARGET_DIR:-target}
if [ -z "${CLAIMBENCH_BIN:-}" ]; then
    cargo build --release --quiet --bin claimbench
fi
fast_target=$target_dir/release/examples/fast_target
claimbench=${CLAIMBENCH_BIN:-$target_dir/release/claimbench}

work=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

taskset -c "$TARGET_CORE" "$fast_target" 0 >"$work/server.out" &
server=$!
for _ in $(seq 100); do
    grep -q listening "$work/server.out" 2>/dev/null && break
    sleep 0.05
done
url=$(awk '/listening on/ {print $3}' "$work/server.out")
[ -n "$url" ] || { echo "error: the fast target did not start" >&2; exit 2; }

# Runs a command with its output in $work/out; prints its CPU seconds (user + system).
cpu_seconds() {
    local TIMEFORMAT='%U %S'
    { time "$@" >"$work/out" 2>&1; } 2>"$work/time"
    awk '{printf "%.3f", $1 + $2}' "$work/time"
}

echo "target $url on core $TARGET_CORE; generators on core $GEN_CORE; $CONNECTIONS connections, ${DURATION}s, $RUNS runs each"
printf '%-11s %4s %10s %8s %8s %10s\n' tool run requests seconds cpu_s req_per_s
: >"$work/results"
for run in $(seq "$RUNS"); do
    for tool in wrk claimbench; do
        case $tool in
        wrk)
            cpu=$(cpu_seconds taskset -c "$GEN_CORE" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$url")
            requests=$(awk '/requests in/ {print $1}' "$work/out")
            seconds=$(awk '/requests in/ {sub(/s,?$/, "", $4); print $4}' "$work/out")
            ;;
        claimbench)
            cpu=$(cpu_seconds taskset -c "$GEN_CORE" "$claimbench" load "$url" -c "$CONNECTIONS" \
                -d "${DURATION}s" --core "$GEN_CORE" --json "$work/cb.json")
            requests=$(grep -m1 '^  "requests"' "$work/cb.json" | tr -dc '0-9')
            seconds=$(grep -m1 '^  "duration_s"' "$work/cb.json" | sed 's/.*: *//; s/,//')
            ;;
        esac
        echo "$tool $run $requests $seconds $cpu" >>"$work/results"
        awk '{printf "%-11s %4s %10s %8.2f %8.2f %10.0f\n", $1, $2, $3, $4, $5, $3 / $4}' <<<"$tool $run $requests $seconds $cpu"
    done
done

awk '
    { req[$1] += $3; sec[$1] += $4; cpu[$1] += $5 }
    END {
        for (t in req) {
            rate[t] = req[t] / sec[t]
            per10k[t] = cpu[t] / req[t] * 10000
            printf "%-11s %10.0f req/s  %7.3f CPU-s per 10k requests\n", t, rate[t], per10k[t]
        }
        printf "throughput ratio claimbench/wrk: %.2f (goal >= 0.9)\n", rate["claimbench"] / rate["wrk"]
        printf "CPU per request ratio claimbench/wrk: %.2f (goal <= 1.2)\n", per10k["claimbench"] / per10k["wrk"]
    }' "$work/results"
