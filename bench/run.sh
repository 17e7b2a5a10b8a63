#!/usr/bin/env bash
# make bench: throughput of `sybilwatch fingerprint` side by side with tshark and p0f on one
# generated capture of real TLS handshakes, then the Google Benchmark binaries.
#
#   bench/run.sh BUILD_DIR      (builds nothing: `make bench` builds first)
#
# Knobs (environment): BENCH_CONNECTIONS (100000), BENCH_SEED (1), BENCH_WINDOW (1000 open at
# once), BENCH_RUNS (5, best wall time kept), BENCH_CPU (0: every tool pinned to that core),
# BENCH_TSHARK_LIMIT (300 s: above this projected time tshark runs on a 10,000-connection
# prefix and is scaled), BENCH_MEMORY_CONNECTIONS (1000000: open connections and accounts in
# daemon_memory_bench), BENCH_DATA_DIR (BUILD_DIR/bench-data: generated captures, reused while
# the generator and its parameters are unchanged), SW_SHARED_DIR (../shared: the reference
# captures the hellos come from).
#
# Exit status: 0 when everything ran and the output checks held, whether or not the speed
# targets were met (a missed target is printed, loudly); 1 otherwise.
set -euo pipefail

die() { echo "bench: error: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: bench/run.sh BUILD_DIR"
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" 2>/dev/null && pwd) || die "no build directory $1 (run make bench)"
SW="$BUILD/bin/sybilwatch"
[ -x "$SW" ] || die "$SW missing (run make bench, which builds first)"
SHARED=${SW_SHARED_DIR:-$REPO/../shared}
CONNECTIONS=${BENCH_CONNECTIONS:-100000}
SEED=${BENCH_SEED:-1}
WINDOW=${BENCH_WINDOW:-1000}
RUNS=${BENCH_RUNS:-5}
CPU=${BENCH_CPU:-0}
TSHARK_LIMIT=${BENCH_TSHARK_LIMIT:-300}
PREFIX_CONNECTIONS=10000
DATA=${BENCH_DATA_DIR:-$BUILD/bench-data}
GEN="$REPO/bench/gen_handshakes.py"

for tool in python3 tshark p0f; do
    command -v "$tool" >/dev/null || die "$tool not installed (make deps installs it)"
done
# One core for every tool: sybilwatch is single-threaded, the others get no help either.
PIN=()
if command -v taskset >/dev/null && taskset -c "$CPU" true 2>/dev/null; then
    PIN=(taskset -c "$CPU")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sw-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$DATA"

# ------------------------------------------------------------------ captures

# The capture and its 10,000-connection prefix, generated once per (generator source,
# parameters); a partial file from an interrupted run is never reused.
KEY=$( (cat "$GEN"; echo "n=$CONNECTIONS seed=$SEED window=$WINDOW prefix=$PREFIX_CONNECTIONS") |
    sha256sum | cut -c1-12)
FULL="$DATA/handshakes-n$CONNECTIONS-s$SEED-w$WINDOW-$KEY.pcap"
PREFIX="$DATA/handshakes-n$CONNECTIONS-s$SEED-w$WINDOW-$KEY.prefix$PREFIX_CONNECTIONS.pcap"
if [ ! -s "$FULL.json" ] || [ ! -s "$PREFIX.json" ]; then
    echo "bench: generating $CONNECTIONS connections into $FULL" >&2
    # Captures of other parameters or generator versions: hundreds of MB each, not kept.
    rm -f "$DATA"/handshakes-*.pcap "$DATA"/handshakes-*.pcap.json "$DATA"/handshakes-*.tmp \
        "$DATA"/handshakes-*.tmp.json
    python3 "$GEN" -n "$CONNECTIONS" --seed "$SEED" --window "$WINDOW" --shared "$SHARED" \
        -o "$FULL.tmp" --prefix-connections "$PREFIX_CONNECTIONS" \
        --prefix-output "$PREFIX.tmp" >&2 ||
        die "capture generation failed"
    mv "$FULL.tmp" "$FULL"
    mv "$PREFIX.tmp" "$PREFIX"
    mv "$PREFIX.tmp.json" "$PREFIX.json"
    mv "$FULL.tmp.json" "$FULL.json"  # last: its presence marks a complete generation
fi
manifest() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
PACKETS=$(manifest "$FULL.json" packets)
PREFIX_PACKETS=$(manifest "$PREFIX.json" packets)
PREFIX_CONNS=$(manifest "$PREFIX.json" connections)

# ------------------------------------------------------------------ measuring

# measure OUT ERR CMD...: runs CMD (stdout to OUT, stderr to ERR) and prints
# "wall_s cpu_s peak_rss_kb exit_status". CPU time is the child's own rusage. Peak RSS comes
# from GNU time when installed, else from sampling VmHWM every 2 ms (growth in the last 2 ms
# is missed): the rusage maxrss of a child of python3 would include python's own ~14 MB,
# which a fork carries into the exec'd tool's accounting.
measure() {
    python3 - "$@" <<'PY'
import os, subprocess, sys, threading, time
out, errfile, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
gnu_time = os.access("/usr/bin/time", os.X_OK)
rss_file = errfile + ".rss"
if gnu_time:
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
hwm = 0
def sample(pid):
    global hwm
    while True:
        try:
            with open("/proc/%d/status" % pid) as st:
                line = next((l for l in st if l.startswith("VmHWM:")), None)
        except OSError:
            return
        if line is None:  # a zombie: the tool has exited
            return
        hwm = max(hwm, int(line.split()[1]))
        time.sleep(0.002)
with open(out, "wb") as f, open(errfile, "wb") as err:
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=f, stderr=err)
    sampler = None
    if not gnu_time:
        sampler = threading.Thread(target=sample, args=(p.pid,), daemon=True)
        sampler.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
if sampler:
    sampler.join()
if gnu_time:
    try:
        hwm = int(open(rss_file).read().split()[-1])
    except (OSError, ValueError, IndexError):
        hwm = 0
print("%.4f %.4f %d %d" % (wall, ru.ru_utime + ru.ru_stime, hwm, p.returncode))
PY
}

# best NAME RUNS OUT CMD...: runs CMD RUNS times; WALL[NAME] and CPUT[NAME] get the best wall
# time and that run's CPU time, RSS[NAME] the largest peak RSS. A failing run fails the bench.
declare -A WALL CPUT RSS
best() {
    local name=$1 runs=$2 out=$3
    shift 3
    local i wall cpu rss rc
    for ((i = 0; i < runs; i++)); do
        read -r wall cpu rss rc < <(measure "$out" "$WORK/$name.err" "$@")
        if [ "$rc" != 0 ]; then
            echo "bench: '$*' exited with status $rc:" >&2
            tail -5 "$WORK/$name.err" >&2
            FAILED+=("$name did not run")
            return 1
        fi
        if [ -z "${WALL[$name]:-}" ] || awk "BEGIN { exit !($wall < ${WALL[$name]}) }"; then
            WALL[$name]=$wall
            CPUT[$name]=$cpu
        fi
        if [ -z "${RSS[$name]:-}" ] || [ "$rss" -gt "${RSS[$name]}" ]; then RSS[$name]=$rss; fi
    done
}

FAILED=()

# The captures' page cache, as a capture read from disk would have it: flushed, evicted and read
# back sequentially. How the cached pages came to be decides what mapping them costs: pages
# filled by readahead or large writes sit in large folios, pages written in small appends or
# faulted in one by one in 4 KiB ones, and mapping 133,000 of those took sybilwatch 50 ms more
# (about 15%) on this capture (docs/benchmarks.md). p0f and tshark read(), which does not care.
# POSIX_FADV_DONTNEED is advice: on tmpfs, or for pages another process maps, nothing is evicted
# and the step changes nothing.
settle_cache() {
    python3 - "$@" <<'PY'
import os, sys
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        while os.read(fd, 1 << 20):
            pass
    finally:
        os.close(fd)
PY
}
settle_cache "$FULL" "$PREFIX" || die "could not read the captures back"

# How fast the host is right now, for reading the figures: this shared VM's speed drifts by up to
# 1.6x within an hour (a neighbour on the same physical core slows code with a high IPC, such as
# ours, more than p0f's), so a figure means little without it. One pure-compute microbenchmark
# (parse + JA4 of a 2 KiB ClientHello, ja4_bench), before each part; docs/benchmarks.md lists
# what it measures in quiet and in slow phases.
host_check() {
    local b="$BUILD/bin/ja4_bench"
    [ -x "$b" ] || { echo "-"; return 0; }
    "${PIN[@]}" "$b" --benchmark_filter='^BM_ParseClientHelloJa4$' --benchmark_min_time=0.3 \
        --benchmark_format=json 2>/dev/null | python3 -c 'import json, sys
try:
    b = json.load(sys.stdin)["benchmarks"][0]
    print("%.0f" % (b["cpu_time"] * {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]))
except Exception:
    print("-")'
}
HOST_NS=$(host_check)

echo "bench: sybilwatch on $FULL" >&2
# Correctness first (output to a file), then timed runs
# with the output thrown away, as the other tools' are.
"$SW" fingerprint --no-raw "$FULL" >"$WORK/sw.jsonl" || die "sybilwatch fingerprint --no-raw failed"
"$SW" fingerprint "$FULL" > "$WORK/sw-raw.jsonl" || die "sybilwatch fingerprint failed"

HYPERFINE=""
if command -v hyperfine >/dev/null; then HYPERFINE=hyperfine; fi
if [ -n "$HYPERFINE" ]; then
    # hyperfine's minimum over the runs is the wall time; one measured run adds CPU and RSS.
    for mode in noraw raw; do
        flag=()
        if [ $mode = noraw ]; then flag=(--no-raw); fi
        hf_cmd=$(printf '%q ' "${PIN[@]}" "$SW" fingerprint "${flag[@]}" "$FULL")
        best "sw-$mode" 1 /dev/null "${PIN[@]}" "$SW" fingerprint "${flag[@]}" "$FULL" || true
        if hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$WORK/hf-$mode.json" \
            --output=null "$hf_cmd" >/dev/null 2>"$WORK/hf-$mode.err"; then
            WALL[sw-$mode]=$(python3 -c 'import json, sys
print(min(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$WORK/hf-$mode.json")
        else
            tail -3 "$WORK/hf-$mode.err" >&2
            FAILED+=("hyperfine sybilwatch $mode")
        fi
    done
else
    best sw-noraw "$RUNS" /dev/null "${PIN[@]}" "$SW" fingerprint --no-raw "$FULL" || true
    best sw-raw "$RUNS" /dev/null "${PIN[@]}" "$SW" fingerprint "$FULL" || true
fi

echo "bench: p0f on $FULL" >&2
best p0f "$RUNS" /dev/null "${PIN[@]}" p0f -r "$FULL" || true

# tshark: first on the prefix; the full file only when its projected time is acceptable.
echo "bench: tshark on the $PREFIX_CONNS-connection prefix" >&2
TSHARK=(tshark -n -r)
TSHARK_ARGS=(-T fields -e tls.handshake.ja3 -Y "tls.handshake.type==1")
TSHARK_SCOPE=prefix
projected=0
best tshark-prefix 1 "$WORK/tshark-prefix.txt" "${PIN[@]}" "${TSHARK[@]}" "$PREFIX" \
    "${TSHARK_ARGS[@]}" || true
if [ -n "${WALL[tshark-prefix]:-}" ] && [ "$PREFIX_CONNS" -ge "$CONNECTIONS" ]; then
    TSHARK_SCOPE=full  # the prefix is the whole capture
    WALL[tshark-full]=${WALL[tshark-prefix]}
    CPUT[tshark-full]=${CPUT[tshark-prefix]}
    RSS[tshark-full]=${RSS[tshark-prefix]}
    cp "$WORK/tshark-prefix.txt" "$WORK/tshark-full.txt"
elif [ -n "${WALL[tshark-prefix]:-}" ]; then
    projected=$(python3 -c "print(int(${WALL[tshark-prefix]} * $PACKETS / $PREFIX_PACKETS))")
    if [ "$projected" -le "$TSHARK_LIMIT" ]; then
        echo "bench: tshark on the full capture (projected ${projected} s)" >&2
        if best tshark-full 1 "$WORK/tshark-full.txt" "${PIN[@]}" "${TSHARK[@]}" "$FULL" \
            "${TSHARK_ARGS[@]}"; then
            TSHARK_SCOPE=full
        fi
    fi
fi

# ------------------------------------------------------------------ checks

# The JA3 cross-check compares with tshark on the file tshark read in full.
if [ "$TSHARK_SCOPE" = full ]; then
    TS_OUT="$WORK/tshark-full.txt"; TS_JSONL="$WORK/sw.jsonl"
else
    TS_OUT="$WORK/tshark-prefix.txt"; TS_JSONL="$WORK/sw-prefix.jsonl"
    "$SW" fingerprint --no-raw "$PREFIX" > "$TS_JSONL" || FAILED+=("sybilwatch on the prefix")
fi
CHECK_OUT=$(python3 - "$FULL.json" "$WORK/sw.jsonl" "$WORK/sw-raw.jsonl" "$TS_JSONL" "$TS_OUT" \
    <<'PY'
import collections, json, sys
manifest = json.load(open(sys.argv[1]))
ok = True
def check(label, good, detail):
    global ok
    ok &= good
    print("%-52s %s  %s" % (label, "ok  " if good else "FAIL", detail))
for name, path in (("--no-raw", sys.argv[2]), ("raw", sys.argv[3])):
    lines = [json.loads(l) for l in open(path)]
    with_ja4 = sum(1 for o in lines if "ja4" in o)
    check("lines with ja4 == connections (%s)" % name, with_ja4 == manifest["connections"],
          "%d of %d (%d lines)" % (with_ja4, manifest["connections"], len(lines)))
    sni = collections.Counter(o.get("sni", "") for o in lines if "ja4" in o)
    want = collections.Counter(manifest["per_sni"])
    check("connections per SNI == generated (%s)" % name, sni == want,
          "%d SNIs" % len(want) if sni == want
          else "differ: %s" % dict((sni - want) + (want - sni)))
    if name == "raw":
        raw = sum(1 for o in lines if "ja4_r" in o and "ja3_full" in o)
        check("raw strings present (raw)", raw == with_ja4, "%d of %d" % (raw, with_ja4))
mine = collections.Counter(json.loads(l).get("ja3") for l in open(sys.argv[4]))
theirs = collections.Counter(l.strip() for l in open(sys.argv[5]) if l.strip())
check("JA3 multiset == tshark's", mine == theirs,
      "%d connections, %d distinct JA3" % (sum(theirs.values()), len(theirs)))
sys.exit(0 if ok else 1)
PY
) || FAILED+=("output checks")

# ------------------------------------------------------------------ report

python3 - "$FULL" "$CONNECTIONS" "$PACKETS" "$PREFIX_CONNS" "$PREFIX_PACKETS" "$TSHARK_SCOPE" \
    "${#PIN[@]}" "$CPU" "$RUNS" "$HYPERFINE" "$projected" "$TSHARK_LIMIT" "$HOST_NS" <<PY
import os, sys
full, conns, pkts, pconns, ppkts, scope, pinned, cpu, runs, hf, projected, limit, host_ns = \
    sys.argv[1:]
conns, pkts, pconns, ppkts = int(conns), int(pkts), int(pconns), int(ppkts)
wall = {$(for k in "${!WALL[@]}"; do printf '"%s": %s, ' "$k" "${WALL[$k]}"; done)}
cpus = {$(for k in "${!CPUT[@]}"; do printf '"%s": %s, ' "$k" "${CPUT[$k]}"; done)}
rss = {$(for k in "${!RSS[@]}"; do printf '"%s": %s, ' "$k" "${RSS[$k]}"; done)}
load = open("/proc/loadavg").read().split()[:3]
print()
print("sybilwatch bench: %d connections, %d packets, %.0f MB"
      % (conns, pkts, os.path.getsize(full) / 1e6))
print("  capture: %s" % full)
print("  %d CPUs, load average %s%s; %s; best of %s runs%s" % (
    os.cpu_count(), " ".join(load),
    " (busy machine: expect noise)" if float(load[0]) > 0.5 else "",
    "every tool pinned to CPU %s" % cpu if int(pinned) else "not pinned (no taskset)",
    runs, " (hyperfine)" if hf else ""))
print("  host speed check before timing: parse + JA4 of a 2 KiB hello in %s ns (ja4_bench; see"
      " docs/benchmarks.md for this VM's quiet and slow phases)" % host_ns)
print()
rows = [("sybilwatch --no-raw", "sw-noraw", conns, pkts, runs),
        ("sybilwatch (raw strings)", "sw-raw", conns, pkts, runs),
        ("p0f -r", "p0f", conns, pkts, runs)]
if scope == "full":
    rows.append(("tshark -e tls.handshake.ja3", "tshark-full", conns, pkts, "1"))
else:
    rows.append(("tshark -e tls.handshake.ja3 *", "tshark-prefix", pconns, ppkts, "1"))
fmt = "%-32s %4s %10s %10s %12s %12s %10s %9s"
print(fmt % ("tool", "runs", "wall (s)", "CPU (s)", "packets/s", "conns/s", "pkt/s CPU",
             "peak RSS"))
pps = {}
for label, key, c, p, r in rows:
    if key not in wall:
        print(fmt % (label, r, "failed", "", "", "", "", ""))
        continue
    pps[key] = p / wall[key]
    print(fmt % (label, r, "%.3f" % wall[key], "%.3f" % cpus[key], "%.3f M" % (p / wall[key] / 1e6),
                 "%.0f" % (c / wall[key]), "%.3f M" % (p / cpus[key] / 1e6) if cpus[key] else "-",
                 "%.1f MB" % (rss[key] / 1024)))
if scope != "full":
    print("* tshark ran on the first %d connections (%d packets) only: the full capture would"
          " take ~%s s (limit BENCH_TSHARK_LIMIT=%s s); its rate there stands for the whole file."
          % (pconns, ppkts, projected, limit))
print()
ts_key = "tshark-full" if "tshark-full" in pps else "tshark-prefix"
cpu_pps = {k: (pkts if k != "tshark-prefix" else ppkts) / cpus[k] for k in pps if cpus.get(k)}
targets = []
if "sw-noraw" in pps:
    sw, swc = pps["sw-noraw"], cpu_pps.get("sw-noraw")
    targets.append(("sybilwatch --no-raw >= 3 M packets/s on one core", sw / 1e6,
                    swc and swc / 1e6, 3.0, "%.2f M"))
    if ts_key in pps:
        targets.append(("sybilwatch >= 100x tshark (packets/s)", sw / pps[ts_key],
                        swc and swc / cpu_pps[ts_key], 100, "%.0fx"))
    if "p0f" in pps:
        targets.append(("sybilwatch >= 5x p0f (packets/s)", sw / pps["p0f"],
                        swc and swc / cpu_pps["p0f"], 5, "%.1fx"))
print("targets (on wall time; in brackets the same on CPU time, which other load on the"
      " machine disturbs less)")
missed = 0
for label, value, cpu_value, goal, vf in targets:
    good = value >= goal
    missed += not good
    print("  %-50s %9s  [%9s]   %s" % (label, vf % value, vf % cpu_value if cpu_value else "-",
                                       "PASS" if good else "FAIL  <<<<<<<<<<"))
if missed:
    print("  !!! %d speed target(s) MISSED (not a bench failure; see docs/benchmarks.md)" % missed)
PY
echo
echo "output checks"
while IFS= read -r line; do echo "  $line"; done <<<"$CHECK_OUT"

# ------------------------------------------------------------------ Google Benchmark

shopt -s nullglob
# rules_engine_bench warms the engine up with this many event-minutes of 1M observations each
# before it measures (its own default, 30, takes a quarter of an hour here).
export RULES_BENCH_WARMUP_MINUTES=${RULES_BENCH_WARMUP_MINUTES:-3}
RULES_HOST_NS=$(host_check)
benches=("$BUILD"/bin/*_bench)
if [ ${#benches[@]} -gt 0 ]; then
    for b in "${benches[@]}"; do
        # Not a Google Benchmark: it has its own section below.
        [ "$(basename "$b")" = daemon_memory_bench ] && continue
        extra=()
        # Memory-bound: a run's speed varies by +-15% with what the host's other tenants do
        # (docs/benchmarks.md), so its figure is the median of a few runs, with their spread (cv).
        [ "$(basename "$b")" = rules_engine_bench ] &&
            extra=(--benchmark_repetitions="${RULES_BENCH_REPETITIONS:-3}"
                --benchmark_report_aggregates_only=true
                --benchmark_out="$WORK/rules.json" --benchmark_out_format=json)
        echo
        echo "== $(basename "$b")"
        "${PIN[@]}" "$b" --benchmark_min_time=0.5 "${extra[@]}" 2>&1 |
            grep -v '^\*\*\*WARNING\*\*\*' || FAILED+=("$(basename "$b")")
    done
fi

# The rules engine's targets (issue 5), from the medians above.
if [ -s "$WORK/rules.json" ]; then
    python3 - "$WORK/rules.json" "$RULES_HOST_NS" <<'PY' || FAILED+=("rules_engine_bench summary")
import json, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b["name"].startswith("BM_RulesEngineDefaultPack/")]
# The medians; with one repetition Google Benchmark computes no aggregates: the runs themselves.
rows = [b for b in runs if b.get("aggregate_name") == "median"]
what = "median of the repetitions"
if not rows:
    rows = [b for b in runs if b.get("run_type", "iteration") == "iteration"]
    what = "one run each"
if not rows:
    sys.exit("bench: rules_engine_bench reported no BM_RulesEngineDefaultPack run")
print()
print("rules engine targets (default pack, 1 million accounts; %s)" % what)
print("  host speed check before the benchmarks: parse + JA4 of a 2 KiB hello in %s ns"
      % sys.argv[2])
missed = 0
for b in rows:
    share = b["name"].split("/")[1]
    def c(k):
        if k not in b:
            sys.exit("bench: rules_engine_bench did not report %s for %s" % (k, b["name"]))
        return b[k]
    print("  %s%% of accounts on uncommon stacks: %d rules, %d keys, %.0f accounts, %d findings"
          % (int(share) / 10, c("rules"), c("keys"), c("accounts"), c("findings")))
    for label, value, ok, vf in (
            ("observations/s on one core >= 1 M", c("items_per_second") / 1e6,
             c("items_per_second") >= 1e6, "%.2f M"),
            ("bytes per tracked account < 512 (own)", c("B_per_account_own"),
             c("B_per_account_own") < 512, "%.0f B"),
            ("bytes per tracked account < 512 (RSS)", c("B_per_account_rss"),
             c("B_per_account_rss") < 512, "%.0f B")):
        missed += not ok
        print("    %-48s %10s   %s" % (label, vf % value, "PASS" if ok else "FAIL  <<<<<<<<<<"))
if missed:
    print("  !!! %d target(s) MISSED (not a bench failure; see docs/benchmarks.md)" % missed)
PY
fi

# ------------------------------------------------------------------ daemon memory

# RSS of the fingerprint engine and the identity joiner with 1 million open connections and
# 1 million pending attribution records (target: under 1 GiB); see docs/benchmarks.md.
if [ -x "$BUILD/bin/daemon_memory_bench" ]; then
    echo
    echo "== daemon_memory_bench (BENCH_MEMORY_CONNECTIONS=${BENCH_MEMORY_CONNECTIONS:-1000000})"
    "${PIN[@]}" "$BUILD/bin/daemon_memory_bench" \
        --connections "${BENCH_MEMORY_CONNECTIONS:-1000000}" ||
        FAILED+=("daemon_memory_bench")
fi

echo
if [ ${#FAILED[@]} -gt 0 ]; then
    printf 'bench: FAILED: %s\n' "${FAILED[@]}" >&2
    exit 1
fi
echo "bench: done"
