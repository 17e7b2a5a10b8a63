#!/usr/bin/env bash
# The eBPF path on the lab's live traffic: lab/lab.sh with LAB_EBPF set runs
# `sybilwatch capture --ebpf` on the server's veth beside tcpdump while the real clients
# (curl, openssl, python, node, gnutls, Java, Chromium with a two-segment ClientHello, also at
# MTU 1280) connect; ebpf_lab_check.py then wants, for every connection of the tcpdump capture,
# the same JA4/JA4T/JA4S/SNI from eBPF, JA4L within 1 ms, no eBPF-only connection, no drops.
# usage: ebpf_lab_test.sh SYBILWATCH [PYTHON3]
# Needs root: exits 77 (skip) without it, but with CI=true a skip is a failure.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 SYBILWATCH [PYTHON3]" >&2; exit 2; }
SYBILWATCH=$(realpath "$1")
PYTHON=${2:-python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

TEST_NAME=ebpf_lab_test
# shellcheck source=common.sh
. "$HERE/common.sh"
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, BPF, tcpdump)"
command -v tc > /dev/null || skip "tc (iproute2) is not installed"

TMP=$(mktemp -d /tmp/sw-ebpf-lab.XXXXXX)
LAB_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # lab.sh cleans up after itself (namespaces, its capture processes) on every exit.
  if [ -n "$LAB_PID" ] && kill -0 "$LAB_PID" 2> /dev/null; then
    kill -TERM "$LAB_PID" 2> /dev/null || true
    wait "$LAB_PID" 2> /dev/null || true
  fi
  if [ "$rc" != 0 ] && [ -f "$TMP/lab/ebpf.stats" ]; then
    echo "ebpf_lab_test: capture stderr:" >&2
    cat "$TMP/lab/ebpf.stats" >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$(date +%s%3N)
LAB_EBPF="$SYBILWATCH" bash "$HERE/lab/lab.sh" "$TMP/lab" &
LAB_PID=$!
rc=0
wait "$LAB_PID" || rc=$?
if [ "$rc" = 77 ]; then
  skip "lab.sh skipped (see above)"
elif [ "$rc" != 0 ]; then
  echo "ebpf_lab_test: FAIL: lab.sh exited $rc" >&2
  exit 1
fi
if ip netns list | grep -Eq "^swlab-(srv|cli)-$LAB_PID( |$)"; then
  echo "ebpf_lab_test: FAIL: lab.sh left its namespaces behind" >&2
  exit 1
fi
LAB_PID=
t1=$(date +%s%3N)

"$PYTHON" "$HERE/ebpf_lab_check.py" --sybilwatch "$SYBILWATCH" --lab "$TMP/lab"
echo "ebpf_lab_test: lab $((t1 - t0)) ms, checks $(($(date +%s%3N) - t1)) ms"
