#!/usr/bin/env bash
# The lab, live: real clients in fresh network namespaces (lab/lab.sh), the capture fingerprinted
# by sybilwatch and checked by lab_fingerprints_test.py, reassembly variants included.
# usage: lab_live_test.sh SYBILWATCH [PYTHON3]
# Needs root: exits 77 (skip) without it, but with CI=true a skip is a failure.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 SYBILWATCH [PYTHON3]" >&2; exit 2; }
SYBILWATCH=$(realpath "$1")
PYTHON=${2:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

TEST_NAME=lab_live_test
# shellcheck source=common.sh
. "$HERE/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, tcpdump)"
command -v tshark > /dev/null || skip "tshark is not installed (make deps)"

TMP=$(mktemp -d /tmp/sw-lab-live.XXXXXX)
LAB_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # lab.sh cleans up after itself on every exit; stop it if we are stopped first.
  if [ -n "$LAB_PID" ] && kill -0 "$LAB_PID" 2> /dev/null; then
    kill -TERM "$LAB_PID" 2> /dev/null || true
    wait "$LAB_PID" 2> /dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s%3N)
bash "$HERE/lab/lab.sh" "$TMP/lab" &
LAB_PID=$!
rc=0
wait "$LAB_PID" || rc=$?
if [ "$rc" = 77 ]; then
  skip "lab.sh skipped (see above)"
elif [ "$rc" != 0 ]; then
  echo "lab_live_test: FAIL: lab.sh exited $rc" >&2
  exit 1
fi
if ip netns list | grep -Eq "^swlab-(srv|cli)-$LAB_PID( |$)"; then
  echo "lab_live_test: FAIL: lab.sh left its namespaces behind" >&2
  exit 1
fi
LAB_PID=
t1=$(date +%s%3N)

"$PYTHON" "$HERE/../data/lab/make_variants.py" "$TMP/lab/lab.pcap" "$TMP/lab/lab.tsv" \
  "$TMP/lab/variants"
echo "lab_live_test: fingerprints of the fresh capture:"
"$SYBILWATCH" fingerprint --no-raw "$TMP/lab/lab.pcap" |
  "$PYTHON" -c 'import json, sys
for line in sys.stdin:
    c = json.loads(line)
    print("  %-15s %5s -> %-5s sni=%-20s ja4=%s ja4t=%s" % (c["src"], c["src_port"],
          c["dst_port"], c.get("sni", "-"), c.get("ja4"), c.get("ja4t")))'
"$PYTHON" "$HERE/lab_fingerprints_test.py" --sybilwatch "$SYBILWATCH" \
  --capture "$TMP/lab/lab.pcap" --manifest "$TMP/lab/lab.tsv" --variants "$TMP/lab/variants"
echo "lab_live_test: lab $((t1 - t0)) ms, checks $(($(date +%s%3N) - t1)) ms"
