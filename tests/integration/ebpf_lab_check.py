#!/usr/bin/env python3
"""The eBPF path against the pcap path on the lab's live traffic (issue 3 acceptance).

usage: ebpf_lab_check.py --sybilwatch BIN --lab DIR

DIR is lab.sh's output with LAB_EBPF set: lab.pcap (tcpdump on the server's veth), lab.tsv (the
client runs), ebpf.jsonl and ebpf.stats (`sybilwatch capture --ebpf --stats` on the same veth at
the same time). For every TCP connection `sybilwatch fingerprint lab.pcap` reports, the eBPF line
of the same 4-tuple must carry the same JA4, JA4T, JA4S, SNI (and the other hello-derived
fields), and JA4L-C / JA4L-S within 1 ms of the pcap's (the two paths take their timestamps at
different points of the stack: TC hook vs packet tap). No connection may be seen by eBPF only,
and in this light run no event may have been dropped.
"""
import argparse
import json
import os
import subprocess
import sys

# Computed from the same bytes on both paths: must be equal whenever the pcap path has them.
EQUAL = ("ja4", "ja4t", "ja4s", "sni", "alpn", "ja4_r", "ja4_o", "ja3", "ja4ts", "tcp_sig",
         "tls_version")
# Must be present in both; "<µs>_<ttl>": TTL equal, µs within this many.
TIMED = ("ja4l_c", "ja4l_s")
TOLERANCE_US = 1000
# Counters that must be zero in the lab's light traffic.
ZERO = ("packet_drops", "flow_end_drops", "insert_failures", "evictions")


def read_stats(path):
    """The `ebpf: key=value ...` line of capture --stats."""
    with open(path) as f:
        lines = [line for line in f if line.startswith("ebpf:")]
    if len(lines) != 1:
        raise SystemExit(f"ebpf_lab_check: {path}: expected one 'ebpf:' counters line, "
                         f"found {len(lines)}")
    return {k: int(v) for k, v in (kv.split("=") for kv in lines[0].split()[1:])}


def key(c):
    return (c["src"], c["src_port"], c["dst"], c["dst_port"])


def tcp_lines(lines, where, failures):
    out = {}
    for c in lines:
        if c.get("transport") != "tcp":
            failures.append(f"{where}: a non-TCP connection on a monitored port: {c}")
            continue
        if key(c) in out:
            failures.append(f"{where}: two lines for {key(c)}")
        out[key(c)] = c
    return out


def split_ja4l(value):
    us, ttl = value.split("_")
    return int(us), int(ttl)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sybilwatch", required=True)
    ap.add_argument("--lab", required=True)
    args = ap.parse_args()
    pcap = os.path.join(args.lab, "lab.pcap")
    failures = []

    proc = subprocess.run([args.sybilwatch, "fingerprint", pcap], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"ebpf_lab_check: sybilwatch fingerprint failed: {proc.stderr}")
    ref = tcp_lines([json.loads(l) for l in proc.stdout.splitlines() if l.strip()], "pcap",
                    failures)
    with open(os.path.join(args.lab, "ebpf.jsonl")) as f:
        ebpf_lines = [json.loads(l) for l in f if l.strip()]
    ebpf = tcp_lines(ebpf_lines, "ebpf", failures)
    stats = read_stats(os.path.join(args.lab, "ebpf.stats"))

    # Which client run each connection belongs to (lab.tsv: label, tool, src, dst, dst_port).
    labels = {}
    with open(os.path.join(args.lab, "lab.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            row = line.rstrip("\n").split("\t")
            labels[(row[2], row[3], int(row[4]))] = row[0]

    if len(ref) < len(labels):
        failures.append(f"pcap: {len(ref)} connections for {len(labels)} client runs")
    print(f"{'client':<17} {'src':<15} {'port':>5} {'dport':>5}  {'ja4 (both)':<38} "
          f"ja4l_c pcap/ebpf")
    for k in sorted(ref, key=lambda k: (ref[k]["ts"], k)):
        r = ref[k]
        label = labels.get((k[0], k[2], k[3]), "?")
        where = f"{label} {k[0]}:{k[1]} -> {k[2]}:{k[3]}"
        e = ebpf.get(k)
        if e is None:
            failures.append(f"{where}: no eBPF line")
            continue
        for field in EQUAL:
            if field in r and r.get(field) != e.get(field):
                failures.append(f"{where}: {field}: pcap {r.get(field)!r}, eBPF {e.get(field)!r}")
        for field in ("ja4", "ja4t", "ja4s", "ja4l_c"):
            if field not in r:
                failures.append(f"{where}: the pcap path has no {field}")
        for field in TIMED:
            if field not in r or field not in e:
                failures.append(f"{where}: {field}: pcap {r.get(field)!r}, eBPF {e.get(field)!r}")
                continue
            (rus, rttl), (eus, ettl) = split_ja4l(r[field]), split_ja4l(e[field])
            if rttl != ettl or abs(rus - eus) > TOLERANCE_US:
                failures.append(f"{where}: {field}: pcap {r[field]}, eBPF {e[field]} "
                                f"(TTL equal and |Δ| <= {TOLERANCE_US} µs required)")
        print(f"{label:<17} {k[0]:<15} {k[1]:>5} {k[3]:>5}  {r.get('ja4', '-'):<38} "
              f"{r.get('ja4l_c')} / {e.get('ja4l_c')}")

    # Connections only the eBPF path reports. lab.sh's tcpdump filter covers exactly the ports
    # the capture monitors, TCP; the clients use no other transport (Chromium runs without
    # QUIC), so there is nothing such a line could legitimately be.
    for k in sorted(set(ebpf) - set(ref)):
        failures.append(f"eBPF only: {k}: {json.dumps(ebpf[k])[:300]}")

    for name in ZERO:
        if stats.get(name) != 0:
            failures.append(f"ebpf.stats: {name}={stats.get(name)}, expected 0")
    if stats.get("observations") != len(ebpf_lines):
        failures.append(f"ebpf.stats: observations={stats.get('observations')} but "
                        f"{len(ebpf_lines)} lines were printed")
    print(f"ebpf_lab_check: {len(ref)} connections in the tcpdump capture, {len(ebpf)} from eBPF; "
          + " ".join(f"{k}={v}" for k, v in stats.items()))
    if failures:
        print(f"ebpf_lab_check: FAIL ({len(failures)}):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("ebpf_lab_check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
