#!/usr/bin/env python3
"""Writes reference_expectations.tsv: tshark's reading of the innermost IP and TCP/UDP layer of
every frame (the first --max-frames of each) of the FoxIO reference captures and of the
synthetic captures in this folder. decoder_reference_test.cpp decodes the same frames with
net::decode() and compares field by field.

Usage (from the repository root, tshark on PATH):
  tests/data/net/make_reference_expectations.py [--max-frames 100] [-o FILE]
The committed file was made with the defaults (tshark 4.0). --max-frames 0 takes every frame;
point the test at such a file with SW_NET_REFERENCE_TSV=FILE to check all of them.

Field choice: icmp/icmpv6 end the walk (an ICMP error quotes a packet that the decoder does
not follow: it reports the IP layer carrying the ICMP as Unsupported). IP reassembly is off so
fragments are seen as the decoder sees them.
"""
import argparse
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
FOXIO = "conformance/foxio/pcap"

FIELDS = [
    "frame.number", "frame.protocols",
    "ip.src", "ip.dst", "ip.ttl", "ip.dsfield", "ip.id", "ip.flags.df", "ip.frag_offset",
    "ip.proto",
    "ipv6.src", "ipv6.dst", "ipv6.hlim", "ipv6.tclass", "ipv6.flow", "ipv6.fraghdr.offset",
    "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
    "tcp.window_size_value", "tcp.urgent_pointer", "tcp.hdr_len", "tcp.len",
    "udp.srcport", "udp.dstport", "udp.length",
]
COLUMNS = ["frame", "status", "ipver", "src", "dst", "ttl", "tos", "ip_proto", "ip_id", "df",
           "flow_label", "sport", "dport", "tcp_flags", "seq", "ack", "window", "urgent",
           "tcp_hdr_len", "payload_len", "tunnel_depth", "vlan_depth"]
PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def tshark_rows(path, max_frames):
    cmd = ["tshark", "-r", path, "-n", "-o", "ip.defragment:FALSE", "-o",
           "ipv6.defragment:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    if max_frames:
        cmd += ["-c", str(max_frames)]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        values = line.split("\t")
        values += [""] * (len(FIELDS) - len(values))
        yield {f: (v.split(",") if v else []) for f, v in zip(FIELDS, values)}


def pick(row, field, index):
    values = row[field]
    return values[index] if index is not None and index < len(values) else None


def num(text):
    return str(int(text, 0)) if text not in (None, "") else "-"


def expectation(row):
    tokens = row["frame.protocols"][0].split(":") if row["frame.protocols"] else []
    counts = {"ip": 0, "ipv6": 0, "tcp": 0, "udp": 0, "ipv6.fraghdr": 0}
    inner = None       # (version, occurrence index of that IP layer)
    l4 = None          # (token, occurrence index) of the layer after the innermost IP
    fraghdr = None     # occurrence index of an IPv6 fragment header after the innermost IP
    ip_layers = vlans = 0
    for tok in tokens:
        if tok in ("ip", "ipv6"):
            inner = (4 if tok == "ip" else 6, counts[tok])
            counts[tok] += 1
            ip_layers += 1
            l4 = fraghdr = None
        elif tok in ("vlan", "ieee8021ad"):
            vlans += 1
        elif tok == "ipv6.fraghdr":
            fraghdr = counts[tok]
            counts[tok] += 1
        elif tok in ("tcp", "udp"):
            if l4 is None:
                l4 = (tok, counts[tok])
            counts[tok] += 1
        elif tok in ("icmp", "icmpv6"):
            l4 = (tok, None)
            break
    r = dict.fromkeys(COLUMNS, "-")
    r["frame"] = row["frame.number"][0]
    r["vlan_depth"] = str(vlans)
    if inner is None:
        r["status"] = "not_ip"
        return r
    version, k = inner
    r["ipver"] = str(version)
    r["tunnel_depth"] = str(ip_layers - 1)
    if version == 4:
        r["src"], r["dst"] = pick(row, "ip.src", k), pick(row, "ip.dst", k)
        r["ttl"], r["tos"] = num(pick(row, "ip.ttl", k)), num(pick(row, "ip.dsfield", k))
        r["ip_id"] = num(pick(row, "ip.id", k))
        r["df"] = num(pick(row, "ip.flags.df", k))
        r["ip_proto"] = num(pick(row, "ip.proto", k))
        fragment = int(pick(row, "ip.frag_offset", k) or 0) != 0
    else:
        r["src"], r["dst"] = pick(row, "ipv6.src", k), pick(row, "ipv6.dst", k)
        r["ttl"], r["tos"] = num(pick(row, "ipv6.hlim", k)), num(pick(row, "ipv6.tclass", k))
        r["flow_label"] = num(pick(row, "ipv6.flow", k))
        fragment = fraghdr is not None and int(pick(row, "ipv6.fraghdr.offset", fraghdr)) != 0
    if fragment:
        r["status"] = "fragment"
        return r
    if l4 is None or l4[0] not in ("tcp", "udp"):
        r["status"] = "unsupported"
        if l4 is not None:
            r["ip_proto"] = str(PROTO_NUMBERS[l4[0]])
        return r
    name, j = l4
    r["status"] = "ok"
    r["ip_proto"] = str(PROTO_NUMBERS[name])
    if name == "tcp":
        r["sport"], r["dport"] = pick(row, "tcp.srcport", j), pick(row, "tcp.dstport", j)
        r["tcp_flags"] = num(pick(row, "tcp.flags", j))
        r["seq"], r["ack"] = pick(row, "tcp.seq_raw", j), pick(row, "tcp.ack_raw", j)
        r["window"] = pick(row, "tcp.window_size_value", j)
        r["urgent"] = pick(row, "tcp.urgent_pointer", j)
        r["tcp_hdr_len"] = pick(row, "tcp.hdr_len", j)
        r["payload_len"] = pick(row, "tcp.len", j)
    else:
        r["sport"], r["dport"] = pick(row, "udp.srcport", j), pick(row, "udp.dstport", j)
        r["payload_len"] = str(int(pick(row, "udp.length", j)) - 8)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-frames", type=int, default=100)
    ap.add_argument("-o", default=os.path.join(HERE, "reference_expectations.tsv"))
    args = ap.parse_args()
    version = subprocess.run(["tshark", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    captures = [("shared", os.path.join(FOXIO, os.path.basename(p)))
                for p in sorted(glob.glob(os.path.join(SHARED, FOXIO, "*")))]
    captures += [("source", os.path.relpath(p, ROOT))
                 for p in sorted(glob.glob(os.path.join(HERE, "synthetic-*.pcap")))]
    with open(args.o, "w") as out:
        out.write("# Made by tests/data/net/make_reference_expectations.py --max-frames %d\n"
                  "# from %s Do not edit.\n" % (args.max_frames, version))
        out.write("# " + "\t".join(COLUMNS) + "\n")
        for root, rel in captures:
            out.write("@%s\t%s\n" % (root, rel))
            base = SHARED if root == "shared" else ROOT
            for row in tshark_rows(os.path.join(base, rel), args.max_frames):
                r = expectation(row)
                out.write("\t".join(r[c] or "-" for c in COLUMNS) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
