#!/usr/bin/env bash
# Compares two builds of rules_engine_bench side by side: both run at once, one per core,
# cores swapped each round, so both see the same phase of a shared host (whose speed drifts
# by a factor of up to 1.8 within an hour; docs/benchmarks.md). Prints each pair and the
# geometric mean of B/A.
#
#   bench/compare_rules.sh A_BIN B_BIN [ROUNDS] [FILTER]
#
# ROUNDS: pairs (default 4, even: each binary as often on each core). FILTER: the benchmark
# (default DefaultPack/300/: 30% uncommon stacks). RULES_BENCH_WARMUP_MINUTES (default 3) and
# RULES_BENCH_PACK (another pack directory) pass through.
set -euo pipefail

die() { echo "compare_rules: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: bench/compare_rules.sh A_BIN B_BIN [ROUNDS] [FILTER]"
A=$1 B=$2 ROUNDS=${3:-4} FILTER=${4:-DefaultPack/300/}
for b in "$A" "$B"; do [ -x "$b" ] || die "$b: not an executable"; done
[ "$(nproc)" -ge 2 ] || die "needs two cores"
export RULES_BENCH_WARMUP_MINUTES=${RULES_BENCH_WARMUP_MINUTES:-3}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/compare-rules.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# items/s of one run, as a plain number.
run() {
    taskset -c "$2" "$1" --benchmark_filter="$FILTER" 2>&1 |
        python3 -c 'import re,sys
m = re.search(r"items_per_second=([0-9.]+)([kMG]?)/s", sys.stdin.read())
print(float(m.group(1)) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(2)] if m else "nan")'
}

ratios=()
for i in $(seq "$ROUNDS"); do
    if [ $((i % 2)) -eq 1 ]; then ca=0 cb=1; else ca=1 cb=0; fi
    run "$A" "$ca" >"$WORK/a" &
    run "$B" "$cb" >"$WORK/b"
    wait
    a=$(cat "$WORK/a") b=$(cat "$WORK/b")
    r=$(python3 -c "print('%.3f' % ($b / $a))" 2>/dev/null || echo nan)
    ratios+=("$r")
    printf 'pair %d: A@cpu%d %.0f/s  B@cpu%d %.0f/s  B/A %s\n' "$i" "$ca" "$a" "$cb" "$b" "$r"
done
python3 -c 'import math,sys
r = [float(x) for x in sys.argv[1:] if x != "nan"]
print("geometric mean B/A over %d pairs: %.3f" % (len(r), math.exp(sum(map(math.log, r)) / len(r))) if r else "no pairs")' "${ratios[@]}"
