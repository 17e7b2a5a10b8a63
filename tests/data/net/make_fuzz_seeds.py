#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_packet_decoder (tests/fuzz/corpus/fuzz_packet_decoder/): one
file per frame, the fuzzer's link-type selector byte followed by the frame. Real frames from
the FoxIO reference captures (tunnels, IPv6, ICMP quoting TCP, QUIC) and, for what those lack
(VLAN/QinQ, MPLS, ERSPAN III, GTP-U, SLL/SLL2), frames of the synthetic captures here.

Usage: tests/data/net/make_fuzz_seeds.py   (stdlib only)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
FOXIO = os.path.abspath(os.path.join(ROOT, "..", "shared", "conformance", "foxio", "pcap"))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "fuzz_packet_decoder")

# Index of each link type in kLinks of tests/fuzz/fuzz_packet_decoder.cpp.
SELECTOR = {0: 0, 1: 1, 101: 2, 108: 3, 113: 4, 228: 5, 229: 6, 276: 7}

SEEDS = [  # (capture, 1-based frame number, seed name)
    (os.path.join(FOXIO, "gre-erspan-vxlan.pcap"), 4, "gre-erspan-vxlan-http"),
    (os.path.join(FOXIO, "tcpdump-geneve.pcap"), 1, "geneve-options-icmp"),
    (os.path.join(FOXIO, "tcpdump-geneve.pcap"), 6, "geneve-tcp"),
    (os.path.join(FOXIO, "gre-sample.pcap"), 9, "gre-udp"),
    (os.path.join(FOXIO, "gre-sample.pcap"), 11, "gre-tcp"),
    (os.path.join(FOXIO, "ipv6.pcapng"), 1, "null-ipv6-syn"),
    (os.path.join(FOXIO, "http1-with-cookies.pcapng"), 1, "null-ipv4-syn"),
    (os.path.join(FOXIO, "dhcpv6.pcap"), 1, "ipv6-hopbyhop-icmpv6"),
    (os.path.join(FOXIO, "v6.pcap"), 83, "icmpv6-quoting-udp"),
    (os.path.join(FOXIO, "latest.pcapng"), 32, "icmp-quoting-tcp"),
    (os.path.join(FOXIO, "macos_tcp_flags.pcap"), 1, "syn-ecn"),
    (os.path.join(FOXIO, "chrome-cloudflare-quic-with-secrets.pcapng"), 48, "ipv6-quic"),
    (os.path.join(HERE, "synthetic-ethernet.pcap"), 2, "qinq-ipv6"),
    (os.path.join(HERE, "synthetic-ethernet.pcap"), 9, "ipv6-ext-headers"),
    (os.path.join(HERE, "synthetic-ethernet.pcap"), 13, "mpls"),
    (os.path.join(HERE, "synthetic-ethernet.pcap"), 19, "erspan3"),
    (os.path.join(HERE, "synthetic-ethernet.pcap"), 28, "gtpu-ext"),
    (os.path.join(HERE, "synthetic-ethernet.pcap"), 29, "gre-vxlan-ipv6"),
    (os.path.join(HERE, "synthetic-sll.pcap"), 3, "sll-vlan"),
    (os.path.join(HERE, "synthetic-sll2.pcap"), 2, "sll2-ipv6"),
]


def read_pcap(path):
    """Yields (linktype, frame) of a classic pcap file (microsecond or nanosecond, any order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a classic pcap: " + path)
    link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off < len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        yield link, data[off + 16:off + 16 + caplen]
        off += 16 + caplen


def read_pcapng(path):
    """Yields (linktype, frame) of the enhanced packet blocks of a pcapng file."""
    with open(path, "rb") as f:
        data = f.read()
    e, links, off = "<", [], 0
    while off + 12 <= len(data):
        if data[off:off + 4] == b"\x0a\x0d\x0d\x0a":  # section header: byte order, new IDBs
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            links = []
        btype, blen = struct.unpack(e + "II", data[off:off + 8])
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6:
            ifc, _, _, caplen, _ = struct.unpack(e + "IIIII", body[:20])
            yield links[ifc], body[20:20 + caplen]
        off += blen


def frames(path):
    with open(path, "rb") as f:
        pcapng = f.read(4) == b"\x0a\x0d\x0d\x0a"
    return list(read_pcapng(path) if pcapng else read_pcap(path))


def main():
    os.makedirs(OUT, exist_ok=True)
    for path, number, name in SEEDS:
        link, frame = frames(path)[number - 1]
        with open(os.path.join(OUT, name), "wb") as out:
            out.write(bytes([SELECTOR[link]]) + frame)


if __name__ == "__main__":
    main()
