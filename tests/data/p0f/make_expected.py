#!/usr/bin/env python3
"""Writes raw_sigs.tsv: the raw_sig p0f (Debian's p0f 3) prints for every SYN and SYN+ACK of
the reference captures. The tcp_sig unit test compares sybilwatch's signature with it.
Run: python3 tests/data/p0f/make_expected.py ../shared/conformance/foxio/pcap > tests/data/p0f/raw_sigs.tsv
"""
import glob, os, re, subprocess, sys

pcap_dir = sys.argv[1]
print("# pcap\tkind\tsender\treceiver\traw_sig   (from p0f -r, Debian p0f 3)")
for path in sorted(glob.glob(os.path.join(pcap_dir, "*"))):
    out = subprocess.run(["p0f", "-r", path], capture_output=True, text=True).stdout
    for block in out.split(".-[ ")[1:]:
        m = re.match(r"(\S+) -> (\S+) \((syn|syn\+ack)\) \]", block)
        if not m:
            continue
        sig = re.search(r"raw_sig\s+= (\S+)", block)
        if not sig:
            continue
        src, dst, kind = m.groups()
        # p0f prints client -> server for both; the SYN+ACK's sender is the server.
        sender, receiver = (src, dst) if kind == "syn" else (dst, src)
        print(f"{os.path.basename(path)}\t{kind}\t{sender}\t{receiver}\t{sig.group(1)}")
