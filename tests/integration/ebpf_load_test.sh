#!/usr/bin/env bash
# eBPF capture under load: 100,000 generated TLS handshakes (bench/gen_handshakes.py) replayed
# by tcpreplay at top speed through a veth pair that `sybilwatch capture --ebpf` watches; every
# handshake must be fingerprinted or accounted for by the kernel's drop counters
# (ebpf_load_check.py says exactly what adds up).
#
# usage: ebpf_load_test.sh SYBILWATCH DATA_DIR [PYTHON3]
#   DATA_DIR caches the generated capture, named and keyed as bench/run.sh does (the same
#   directory serves both), and the replay-ready copy ebpf_load_prepare.py makes of it.
#   EBPF_LOAD_CONNECTIONS (default 100000) changes the size, for development.
# Needs root: exits 77 (skip) without it, but with CI=true a skip is a failure.
#
# The replay needs both directions to cross the watched interface as they would on a server:
# the client's frames arrive on its ingress, the server's leave through its egress (the kernel
# programs take the server role from the direction: a server frame arriving on ingress is not
# the server's). tcpreplay's two-interface mode does that (tcpprep splits the file by port): the
# client's frames go out of the peer end P and arrive on W's ingress, the server's go out of W
# itself. Both ends therefore sit in one namespace made here, which has nothing else (no
# address, IPv6 off): the frames' addresses are nobody's and the stack drops them after TC.
# Their MACs stay the generated ones: a veth hands TC ingress every frame whatever its
# destination MAC (no promiscuous mode needed), which check K1 (packets == frames) confirms.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 SYBILWATCH DATA_DIR [PYTHON3]" >&2; exit 2; }
SYBILWATCH=$(realpath "$1")
DATA=$(realpath -m "$2")
PYTHON=${3:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CONNECTIONS=${EBPF_LOAD_CONNECTIONS:-100000}

TEST_NAME=ebpf_load_test
# shellcheck source=common.sh
. "$HERE/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, BPF)"
for tool in ip tc ethtool tcpreplay tcpprep tshark "$PYTHON"; do
  command -v "$tool" > /dev/null || skip "$tool is not installed (make deps)"
done

NS=swebpf-load-$$
W=swlw$$ # the watched end (the server's interface); names are at most 15 characters
P=swlp$$ # its peer (the client side)
TMP=$(mktemp -d /tmp/sw-ebpf-load.XXXXXX)
CAPTURE_PID=
REPLAY_PID=

cleanup() {
  local rc=$? pid
  trap - EXIT
  trap '' INT TERM # a second signal must not cut the cleanup short
  for pid in $REPLAY_PID $CAPTURE_PID; do
    kill -TERM "$pid" 2> /dev/null || true
    kill -CONT "$pid" 2> /dev/null || true # a paused consumer acts on SIGTERM only then
  done
  for pid in $REPLAY_PID $CAPTURE_PID; do
    wait "$pid" 2> /dev/null || true
  done
  if ip netns list | grep -qw "$NS"; then
    for pid in $(ip netns pids "$NS" 2> /dev/null); do
      kill -KILL "$pid" 2> /dev/null || true
    done
    ip netns del "$NS" 2> /dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -s "$TMP/ebpf.stats" ]; then
    echo "ebpf_load_test: capture stderr:" >&2
    tail -n 20 "$TMP/ebpf.stats" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_ms() { date +%s%3N; }
log() { echo "ebpf_load_test: $*"; }
# Background processes are started with `ip netns exec` itself (it execs the command), so $!
# is the process and not a subshell that would ignore the signals meant for it.
in_ns() { ip netns exec "$NS" "$@"; }

# A run killed with SIGKILL leaves its namespace: remove those whose process is gone.
for ns in $(ip netns list | grep -Eo '^swebpf-load-[0-9]+'); do
  if [ ! -e "/proc/${ns##*-}" ]; then
    for pid in $(ip netns pids "$ns" 2> /dev/null); do
      kill -KILL "$pid" 2> /dev/null || true
    done
    ip netns del "$ns" 2> /dev/null || true
  fi
done

# --- the capture ----------------------------------------------------------------------------
t0=$(now_ms)
mkdir -p "$DATA"
# Generated once per (generator source, parameters), under bench/run.sh's name and key, with
# its prefix file too, so that either reuses what the other made.
GEN="$REPO/bench/gen_handshakes.py"
SEED=1
WINDOW=1000
PREFIX_CONNECTIONS=10000
KEY=$( (cat "$GEN"; echo "n=$CONNECTIONS seed=$SEED window=$WINDOW prefix=$PREFIX_CONNECTIONS") |
  sha256sum | cut -c1-12)
FULL="$DATA/handshakes-n$CONNECTIONS-s$SEED-w$WINDOW-$KEY.pcap"
PREFIX="$DATA/handshakes-n$CONNECTIONS-s$SEED-w$WINDOW-$KEY.prefix$PREFIX_CONNECTIONS.pcap"
exec 9> "$DATA/.ebpf-load.lock"
flock 9 # two runs of this test do not generate into the same files at once
if [ ! -s "$FULL.json" ] || [ ! -s "$PREFIX.json" ]; then
  log "generating $CONNECTIONS connections into $FULL"
  "$PYTHON" "$GEN" -n "$CONNECTIONS" --seed "$SEED" --window "$WINDOW" \
    --shared "${SW_SHARED_DIR:-$REPO/../shared}" -o "$FULL.tmp" \
    --prefix-connections "$PREFIX_CONNECTIONS" --prefix-output "$PREFIX.tmp"
  mv "$FULL.tmp" "$FULL"
  mv "$PREFIX.tmp" "$PREFIX"
  mv "$PREFIX.tmp.json" "$PREFIX.json"
  mv "$FULL.tmp.json" "$FULL.json" # last: its presence marks a complete generation
fi
# The replay-ready copy (MTU-sized server segments) and the kernel's expected counts; keyed by
# the preparing script so that a change to it remakes them.
PKEY=$(sha256sum "$HERE/ebpf_load_prepare.py" | cut -c1-12)
REPLAY="${FULL%.pcap}.mtu1500-$PKEY.pcap"
if [ ! -s "$REPLAY.json" ]; then
  rm -f "${FULL%.pcap}".mtu1500-*.pcap "${FULL%.pcap}".mtu1500-*.pcap.json
  log "preparing $REPLAY"
  "$PYTHON" "$HERE/ebpf_load_prepare.py" "$FULL" "$REPLAY"
fi
flock -u 9
exec 9>&-
# tcpprep --port: a frame to a port below 1024 is the client's (primary: tcpreplay -i). As many
# primaries as client frames, or the replay would send the roles through the wrong hooks.
tcpprep --port -i "$REPLAY" -o "$TMP/replay.cache"
primary=$(tcpprep --print-stats="$TMP/replay.cache" | awk '/^Primary packets:/ { print $3 }')
client_frames=$("$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["client_frames"])' \
  "$REPLAY.json")
[ "$primary" = "$client_frames" ] || {
  echo "ebpf_load_test: tcpprep made $primary frames primary, the file has $client_frames" \
    "client frames" >&2
  exit 1
}
t1=$(now_ms)

# --- network --------------------------------------------------------------------------------
ip netns add "$NS"
# No IPv6 on the links: no router solicitation or MLD report may join the replayed frames.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add "$W" type veth peer name "$P"
# As a real NIC delivers: no offload merges or splits what the replay sends.
in_ns ethtool -K "$W" tso off gso off gro off tx off > /dev/null
in_ns ethtool -K "$P" tso off gso off gro off tx off > /dev/null
ip -n "$NS" link set "$W" up
ip -n "$NS" link set "$P" up

# --- capture and replay ---------------------------------------------------------------------
# The pcap path's fingerprints of the same file: the reference for both runs.
"$SYBILWATCH" fingerprint "$REPLAY" > "$TMP/reference.jsonl"

# run_phase NAME PAUSE: a fresh capture (new programs and maps) on W, the whole file replayed,
# the consumer drained and stopped, the counts checked. PAUSE=1 stops the consumer (SIGSTOP)
# from before the replay until it has run 1 s: the ring buffer fills and events are dropped,
# so the drop counters are exercised and must account for every loss.
run_phase() {
  local name=$1 pause=$2 out="$TMP/$1" rc attached last stable size t0 t1 t2 t3
  mkdir -p "$out"
  t0=$(now_ms)
  ip netns exec "$NS" "$SYBILWATCH" capture --ebpf -i "$W" --stats \
    > "$out/ebpf.jsonl" 2> "$out/ebpf.stats" &
  CAPTURE_PID=$!
  attached=
  for _ in $(seq 600); do
    if in_ns tc filter show dev "$W" ingress | grep -q sw_ingress &&
      in_ns tc filter show dev "$W" egress | grep -q sw_egress; then
      attached=1
      break
    fi
    kill -0 "$CAPTURE_PID" 2> /dev/null || break
    sleep 0.05
  done
  [ -n "$attached" ] || {
    cat "$out/ebpf.stats" >&2
    echo "ebpf_load_test: $name: the capture did not attach to $W" >&2
    exit 1
  }
  [ "$pause" = 0 ] || kill -STOP "$CAPTURE_PID"
  t1=$(now_ms)

  ip netns exec "$NS" tcpreplay --topspeed -c "$TMP/replay.cache" -i "$P" -I "$W" "$REPLAY" \
    > "$out/replay.log" 2>&1 &
  REPLAY_PID=$!
  if [ "$pause" != 0 ]; then
    for _ in $(seq 10); do
      kill -0 "$REPLAY_PID" 2> /dev/null || break
      sleep 0.1
    done
    kill -CONT "$CAPTURE_PID"
  fi
  rc=0
  wait "$REPLAY_PID" || rc=$?
  REPLAY_PID=
  if [ "$rc" != 0 ]; then
    cat "$out/replay.log" >&2
    echo "ebpf_load_test: $name: tcpreplay exited $rc" >&2
    exit 1
  fi
  t2=$(now_ms)

  # The consumer drains what the ring buffer holds: stop once its output has not grown for
  # 2 s (the last connections' lines are out), or after 3 minutes whatever happens.
  last=-1
  stable=0
  for _ in $(seq 900); do
    size=$(stat -c %s "$out/ebpf.jsonl")
    if [ "$size" = "$last" ]; then
      stable=$((stable + 1))
      [ "$stable" -ge 10 ] && break
    else
      stable=0
      last=$size
    fi
    kill -0 "$CAPTURE_PID" 2> /dev/null || break
    sleep 0.2
  done
  kill -TERM "$CAPTURE_PID" 2> /dev/null || true
  rc=0
  wait "$CAPTURE_PID" || rc=$?
  CAPTURE_PID=
  if [ "$rc" != 0 ]; then
    cat "$out/ebpf.stats" >&2
    echo "ebpf_load_test: $name: sybilwatch capture exited $rc" >&2
    exit 1
  fi
  t3=$(now_ms)

  local drops=()
  [ "$pause" = 0 ] || drops=(--expect-drops)
  echo "ebpf_load_test: --- $name ---"
  "$PYTHON" "$HERE/ebpf_load_check.py" --reference "$TMP/reference.jsonl" \
    --expect "$REPLAY.json" --lines "$out/ebpf.jsonl" --stats "$out/ebpf.stats" \
    --replay "$out/replay.log" "${drops[@]}"
  log "$name: attach $((t1 - t0)) ms, replay $((t2 - t1)) ms, drain $((t3 - t2)) ms," \
    "checks $(($(now_ms) - t3)) ms"
}

log "data $((t1 - t0)) ms"
run_phase topspeed 0
run_phase consumer-paused 1
