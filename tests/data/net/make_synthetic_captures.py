#!/usr/bin/env python3
"""Writes the synthetic-*.pcap captures next to this script: one frame per decoder feature the
reference captures lack (VLAN/QinQ, MPLS, IPv4 options and fragments, every IPv6 extension
header, GRE with keys, ERSPAN I/II/III, VXLAN, Geneve with options, GTP-U, IP-in-IP, Linux
cooked v1/v2, BSD Null/Loop, raw IP). Built here, independently of the C++ decoder, and then
described by tshark (make_reference_expectations.py), so the decoder test checks the frames
against a third party's reading of them rather than against the intent of their author.

Usage: tests/data/net/make_synthetic_captures.py   (stdlib only; rewrites the .pcap files)
"""
import os
import socket
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LOOP = 0, 1, 101, 108
LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2 = 113, 228, 229, 276


def v4(a):
    return socket.inet_pton(socket.AF_INET, a)


def v6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ttl=64, tos=0, ident=0x1234, df=True, mf=False, frag=0,
         options=b""):
    assert len(options) % 4 == 0
    ihl = 5 + len(options) // 4
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | frag
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + len(payload), ident, flags,
                      ttl, proto, 0, v4(src), v4(dst)) + options
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nxt, payload, hlim=64, tclass=0, flow=0):
    word0 = (6 << 28) | (tclass << 20) | flow
    return struct.pack("!IHBB16s16s", word0, len(payload), nxt, hlim, v6(src), v6(dst)) + payload


def ext_hdr(nxt, body):
    """Hop-by-hop / routing / destination options: length in 8-byte units, minus one."""
    assert (len(body) + 2) % 8 == 0
    return struct.pack("!BB", nxt, (len(body) + 2) // 8 - 1) + body


def tcp(sport, dport, seq, ack, flags, window=64240, urg=0, options=b"", payload=b"",
        reserved=0):
    assert len(options) % 4 == 0
    doff = 5 + len(options) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (doff << 4) | reserved, flags,
                       window, 0, urg) + options + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")


def eth(ethertype, payload, tags=()):
    """tags: (tpid, vid) from the outside in."""
    # Each tag is TPID + TCI; the TPID of the next tag (or the final type) follows the TCI.
    out = MAC_B + MAC_A
    types = [t for t, _ in tags] + [ethertype]
    out += struct.pack("!H", types[0])
    for i, (_, vid) in enumerate(tags):
        out += struct.pack("!HH", vid, types[i + 1])
    return out + payload


def pad60(frame):
    return frame + b"\0" * max(0, 60 - len(frame))


SYN_OPTIONS = bytes.fromhex("020405b4" "0402080a" "0001e240" "00000000" "01030307")
HELLO = b"\x16\x03\x01\x00\x05hello"
GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def tcp4(src="192.0.2.10", dst="198.51.100.20", sport=51000, dport=443, payload=GET, **kw):
    return ipv4(src, dst, 6, tcp(sport, dport, 0x01020304, 0x0a0b0c0d, 0x18,
                                 payload=payload), **kw)


def tcp6(src="2001:db8::10", dst="2001:db8:1::20", sport=51001, dport=443, payload=HELLO):
    return ipv6(src, dst, 6, tcp(sport, dport, 0xfffffff0, 7, 0x18, payload=payload),
                flow=0x12345, tclass=0xb8)


def udp4(src="192.0.2.11", dst="198.51.100.53", sport=53000, dport=53, payload=b"\x12\x34" * 8):
    return ipv4(src, dst, 17, udp(sport, dport, payload), df=False)


def udp6(src="2001:db8::11", dst="2001:db8:1::53", sport=53001, dport=443, payload=b"\xc0" * 24):
    return ipv6(src, dst, 17, udp(sport, dport, payload))


def gre(proto, payload, csum=False, key=None, seq=None):
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
            (0x1000 if seq is not None else 0)
    out = struct.pack("!HH", flags, proto)
    if csum:
        out += struct.pack("!HH", 0, 0)
    if key is not None:
        out += struct.pack("!I", key)
    if seq is not None:
        out += struct.pack("!I", seq)
    return out + payload


def outer4(proto, payload, src="203.0.113.1", dst="203.0.113.2"):
    return eth(0x0800, ipv4(src, dst, proto, payload, df=False, ttl=255))


def erspan2(frame, session=20, index=1):
    return struct.pack("!HHI", (1 << 12) | 0, session, index) + frame


def erspan3(frame, session=21, subheader=True, frame_type=0):
    word0 = struct.pack("!HH", (2 << 12) | 100, session)
    byte10 = (frame_type & 0x1F) << 2
    byte11 = 0x01 if subheader else 0x00
    out = word0 + struct.pack("!I", 0xDEADBEEF) + struct.pack("!HBB", 0x0abc, byte10, byte11)
    if subheader:
        # Platform ID 3: upper/lower timestamp words (content is opaque to the decoder).
        out += struct.pack("!II", (3 << 26) | 0x10, 0x00000001)
    return out + frame


def vxlan(frame, vni=42):
    return struct.pack("!II", 0x08000000, vni << 8) + frame


def geneve(proto, inner, options=b"", vni=10):
    assert len(options) % 4 == 0
    return struct.pack("!BBHI", len(options) // 4, 0, proto, vni << 8) + options + inner


def gtpu(inner, seq=None, ext=b""):
    flags = 0x30  # version 1, PT=1
    opt = b""
    if seq is not None or ext:
        flags |= (0x02 if seq is not None else 0) | (0x04 if ext else 0)
        first_ext_type = ext[0] if ext else 0
        opt = struct.pack("!HBB", seq or 0, 0, first_ext_type) + ext[1:]
    return struct.pack("!BBHI", flags, 0xFF, len(opt) + len(inner), 0x1000) + opt + inner


def mpls(labels, payload):
    out = b""
    for i, label in enumerate(labels):
        bottom = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (bottom << 8) | 64)
    return out + payload


def ethernet_frames():
    f = []
    # 802.1Q + TCP SYN with the usual options, DSCP AF41.
    f.append(eth(0x0800, ipv4("192.0.2.1", "198.51.100.1", 6,
                              tcp(40000, 443, 1000, 0, 0x02, options=SYN_OPTIONS), tos=0x88),
                 tags=[(0x8100, 100)]))
    # QinQ 802.1ad + 802.1Q, IPv6 TCP.
    f.append(eth(0x86DD, tcp6(), tags=[(0x88A8, 10), (0x8100, 20)]))
    # Legacy 0x9100 QinQ with three tags, IPv4 UDP.
    f.append(eth(0x0800, udp4(), tags=[(0x9100, 1), (0x8100, 2), (0x8100, 3)]))
    # IPv4 options (router alert + NOPs), short frame: Ethernet padding must not count.
    f.append(pad60(eth(0x0800, ipv4("192.0.2.2", "198.51.100.2", 6,
                                    tcp(40001, 80, 5, 6, 0x10, payload=b"x"),
                                    options=bytes.fromhex("94040000" "01010100")))))
    # Plain padded ACK (no options).
    f.append(pad60(eth(0x0800, ipv4("192.0.2.3", "198.51.100.3", 6,
                                    tcp(40002, 443, 77, 88, 0x10)))))
    # IPv4 first fragment with the UDP header, then a non-first fragment.
    dgram = udp(5353, 5353, b"A" * 64)
    f.append(eth(0x0800, ipv4("192.0.2.4", "198.51.100.4", 17, dgram[:32], ident=0x4242,
                              df=False, mf=True)))
    f.append(eth(0x0800, ipv4("192.0.2.4", "198.51.100.4", 17, dgram[32:], ident=0x4242,
                              df=False, frag=4)))
    # TCP with every flag, the reserved bits and NS, an urgent pointer.
    f.append(eth(0x0800, ipv4("192.0.2.5", "198.51.100.5", 6,
                              tcp(40003, 25, 9, 10, 0xFF, urg=3, reserved=0x0F,
                                  payload=b"urgent"))))
    # IPv6: hop-by-hop (PadN) + destination options + routing (type 4, SRH) + TCP.
    hbh = ext_hdr(60, bytes.fromhex("01040000" "0000"))
    dst = ext_hdr(43, bytes.fromhex("0104" "00000000"))
    srh = ext_hdr(6, bytes.fromhex("0400" "00000000") + v6("2001:db8:ffff::1"))
    f.append(eth(0x86DD, ipv6("2001:db8::2", "2001:db8:1::2", 0,
                              hbh + dst + srh + tcp(40004, 443, 1, 2, 0x18, payload=HELLO))))
    # IPv6 first fragment (M=1) with the UDP header, then a non-first fragment.
    dgram6 = udp(4433, 443, b"B" * 48)
    frag_first = struct.pack("!BBHI", 17, 0, 0x0001, 0xABCD)
    frag_next = struct.pack("!BBHI", 17, 0, (32 // 8) << 3, 0xABCD)
    f.append(eth(0x86DD, ipv6("2001:db8::3", "2001:db8:1::3", 44, frag_first + dgram6[:32])))
    f.append(eth(0x86DD, ipv6("2001:db8::3", "2001:db8:1::3", 44, frag_next + dgram6[32:])))
    # IPv6 AH (RFC 4302, 12-byte ICV -> payload length 4) + TCP.
    ah = struct.pack("!BBHII", 6, 4, 0, 0x100, 1) + b"\x11" * 12
    f.append(eth(0x86DD, ipv6("2001:db8::4", "2001:db8:1::4", 51,
                              ah + tcp(40005, 443, 3, 4, 0x18, payload=HELLO))))
    # MPLS two labels + IPv4 TCP.
    f.append(eth(0x8847, mpls([100, 200], tcp4(sport=40006))))
    # GRE with checksum, key and sequence -> IPv4 TCP.
    f.append(outer4(47, gre(0x0800, tcp4(sport=40007), csum=True, key=0xCAFE, seq=9)))
    # GRE with key -> IPv6 UDP.
    f.append(outer4(47, gre(0x86DD, udp6(), key=7)))
    # GRE transparent Ethernet bridging -> Ethernet -> IPv6 TCP.
    f.append(outer4(47, gre(0x6558, eth(0x86DD, tcp6(sport=40008)))))
    # ERSPAN type I (no GRE sequence, no ERSPAN header) -> Ethernet -> IPv4 TCP.
    f.append(outer4(47, gre(0x88BE, eth(0x0800, tcp4(sport=40009)))))
    # ERSPAN type II -> Ethernet + 802.1Q -> IPv4 TCP.
    f.append(outer4(47, gre(0x88BE, erspan2(eth(0x0800, tcp4(sport=40010),
                                                 tags=[(0x8100, 300)])), seq=1)))
    # ERSPAN type III with the platform-specific subheader -> Ethernet -> IPv4 TCP.
    f.append(outer4(47, gre(0x22EB, erspan3(eth(0x0800, tcp4(sport=40011))), seq=2)))
    # ERSPAN type III without the subheader -> Ethernet -> IPv6 UDP.
    f.append(outer4(47, gre(0x22EB, erspan3(eth(0x86DD, udp6()), subheader=False), seq=3)))
    # IPv4-in-IPv4, IPv6-in-IPv4 (6in4), IPv4-in-IPv6.
    f.append(outer4(4, tcp4(sport=40012)))
    f.append(outer4(41, tcp6(sport=40013)))
    f.append(eth(0x86DD, ipv6("2001:db8:f::1", "2001:db8:f::2", 4, tcp4(sport=40014))))
    # VXLAN -> Ethernet -> IPv4 UDP.
    f.append(outer4(17, udp(61000, 4789, vxlan(eth(0x0800, udp4(sport=40015))))))
    # Geneve with two options -> Ethernet -> IPv4 TCP.
    opts = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\x00\x00\x00\x2a" + \
        struct.pack("!HBB", 0xFFFF, 0x01, 0)
    f.append(outer4(17, udp(61001, 6081, geneve(0x6558, eth(0x0800, tcp4(sport=40016)),
                                                options=opts))))
    # Geneve carrying IPv6 directly.
    f.append(outer4(17, udp(61002, 6081, geneve(0x86DD, tcp6(sport=40017)))))
    # GTP-U with a sequence number -> IPv4 TCP.
    f.append(outer4(17, udp(2152, 2152, gtpu(tcp4(src="10.45.0.2", sport=40018), seq=5))))
    # GTP-U with a PDU session container extension header -> IPv6 UDP.
    f.append(outer4(17, udp(2152, 2152, gtpu(udp6(sport=40019),
                                             ext=bytes.fromhex("85" "01100900")))))
    # GRE -> IPv4 -> UDP/VXLAN -> Ethernet -> IPv6 TCP: two tunnels.
    f.append(outer4(47, gre(0x0800, ipv4("10.0.0.1", "10.0.0.2", 17,
                                         udp(61003, 4789, vxlan(eth(0x86DD,
                                                                    tcp6(sport=40020)))),
                                         df=False))))
    # Not IP: ARP, and an 802.3 frame (STP BPDU over LLC).
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + MAC_A + v4("192.0.2.1") + \
        b"\0" * 6 + v4("192.0.2.254")
    f.append(pad60(eth(0x0806, arp)))
    bpdu = bytes.fromhex("424203") + b"\0" * 35
    f.append(pad60(bytes.fromhex("0180c2000000") + MAC_A + struct.pack("!H", len(bpdu)) + bpdu))
    # ICMP echo: IP we do not follow further.
    f.append(eth(0x0800, ipv4("192.0.2.6", "198.51.100.6", 1,
                              bytes.fromhex("0800f7ff00010001"))))
    return f


def write_pcap(name, linktype, frames, snaplen=65535):
    """frames: bytes, or (bytes, caplen) for a frame cut by the snaplen."""
    with open(os.path.join(HERE, name), "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        for i, fr in enumerate(frames):
            data, caplen = (fr, len(fr)) if isinstance(fr, bytes) else fr
            out.write(struct.pack("<IIII", 1700000000 + i, 0, caplen, len(data)))
            out.write(data[:caplen])


def sll(proto, payload):
    return struct.pack("!HHH8sH", 0, 1, 6, MAC_A + b"\0\0", proto) + payload


def sll2(proto, payload):
    return struct.pack("!HHIHBB8s", proto, 0, 2, 1, 4, 6, MAC_A + b"\0\0") + payload


def main():
    eth_frames = ethernet_frames()
    # A frame cut by the snaplen after the TCP header: declared payload longer than captured.
    cut = eth(0x0800, tcp4(sport=40021, payload=b"P" * 200))
    eth_frames.append((cut, 14 + 20 + 20 + 50))
    write_pcap("synthetic-ethernet.pcap", LINKTYPE_ETHERNET, eth_frames)
    write_pcap("synthetic-sll.pcap", LINKTYPE_LINUX_SLL, [
        sll(0x0800, tcp4(sport=41000)),
        sll(0x86DD, udp6(sport=41001)),
        sll(0x8100, struct.pack("!HH", 5, 0x0800) + tcp4(sport=41002)),
        sll(0x0806, b"\0" * 28),
    ])
    write_pcap("synthetic-sll2.pcap", LINKTYPE_LINUX_SLL2, [
        sll2(0x0800, tcp4(sport=42000)),
        sll2(0x86DD, tcp6(sport=42001)),
    ])
    write_pcap("synthetic-null.pcap", LINKTYPE_NULL, [
        struct.pack("<I", 2) + tcp4(sport=43000),
        struct.pack("<I", 30) + tcp6(sport=43001),  # macOS AF_INET6
        struct.pack("<I", 28) + tcp6(sport=43002),  # FreeBSD
        struct.pack("<I", 24) + udp6(sport=43003),  # NetBSD/OpenBSD
        struct.pack(">I", 2) + udp4(sport=43004),   # written by a big-endian host
    ])
    write_pcap("synthetic-loop.pcap", LINKTYPE_LOOP, [
        struct.pack(">I", 2) + tcp4(sport=44000),
        struct.pack(">I", 24) + tcp6(sport=44001),
    ])
    write_pcap("synthetic-raw.pcap", LINKTYPE_RAW, [tcp4(sport=45000), udp6(sport=45001)])
    write_pcap("synthetic-ipv4.pcap", LINKTYPE_IPV4, [tcp4(sport=46000)])
    write_pcap("synthetic-ipv6.pcap", LINKTYPE_IPV6, [tcp6(sport=47000)])


if __name__ == "__main__":
    main()
