#!/usr/bin/env python3
"""Derive reassembly stress captures from a lab capture (plain struct-based pcap rewriting).

usage: make_variants.py CAPTURE MANIFEST OUTDIR

Each variant holds one connection of CAPTURE, every packet of it, with the ClientHello's TCP
segments rearranged; the bytes the server receives are unchanged, so a correct reassembler gives
the same fingerprints as for the original connection:
  chromium-swapped.pcap   the two segments of a Chromium ClientHello in reverse order
  chromium-retrans.pcap   the first segment sent twice, then a retransmission overlapping the
                          end of the first and the start of the second segment
  curl-8seg.pcap          curl's one-segment ClientHello cut into 8 segments
OUTDIR/variants.tsv names, for each variant, the connection it came from (client address, port).

The module is also imported by tests/integration/lab_fingerprints_test.py for its pcap reader.
"""
import ipaddress
import os
import struct
import sys

LINKTYPE_ETHERNET = 1
ETH_HLEN = 14
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class Capture:
    """A classic pcap file: header fields and its records as (ts_sec, ts_frac, orig_len, data)."""

    def __init__(self, endian, header, linktype, records):
        self.endian = endian
        self.header = header  # the 24 header bytes, written back unchanged
        self.linktype = linktype
        self.records = records

    def write(self, path, records=None):
        with open(path, "wb") as f:
            f.write(self.header)
            for ts_sec, ts_frac, orig_len, data in self.records if records is None else records:
                f.write(struct.pack(self.endian + "IIII", ts_sec, ts_frac, len(data), orig_len))
                f.write(data)


def record_offsets(path):
    """Byte offset of each record header in a classic pcap file (for cutting it mid-packet)."""
    with open(path, "rb") as f:
        raw = f.read()
    endian = _endian(raw[:4])
    offsets, off = [], 24
    while off + 16 <= len(raw):
        incl = struct.unpack_from(endian + "I", raw, off + 8)[0]
        offsets.append(off)
        off += 16 + incl
    return offsets


def _endian(magic):
    for endian in ("<", ">"):
        if struct.unpack(endian + "I", magic)[0] in (0xA1B2C3D4, 0xA1B23C4D):
            return endian
    raise ValueError("not a classic pcap file (pcapng is not handled here)")


def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    endian = _endian(raw[:4])
    linktype = struct.unpack_from(endian + "I", raw, 20)[0]
    records, off = [], 24
    while off + 16 <= len(raw):
        ts_sec, ts_frac, incl, orig = struct.unpack_from(endian + "IIII", raw, off)
        off += 16
        if off + incl > len(raw):
            break  # a truncated last record
        records.append((ts_sec, ts_frac, orig, raw[off:off + incl]))
        off += incl
    return Capture(endian, raw[:24], linktype, records)


class Segment:
    """The decoded Ethernet/IP/TCP headers of one frame; enough to rewrite its TCP payload."""

    def __init__(self, data):
        ethertype = struct.unpack_from("!H", data, 12)[0]
        self.ip_off = ETH_HLEN
        if ethertype == 0x0800:
            self.version = 4
            ihl = (data[self.ip_off] & 0x0F) * 4
            total_len = struct.unpack_from("!H", data, self.ip_off + 2)[0]
            if data[self.ip_off + 9] != 6:
                raise ValueError("not TCP")
            self.src = ".".join(str(b) for b in data[self.ip_off + 12:self.ip_off + 16])
            self.dst = ".".join(str(b) for b in data[self.ip_off + 16:self.ip_off + 20])
            self.tcp_off = self.ip_off + ihl
            end = self.ip_off + total_len
        elif ethertype == 0x86DD:
            self.version = 6
            payload_len = struct.unpack_from("!H", data, self.ip_off + 4)[0]
            if data[self.ip_off + 6] != 6:
                raise ValueError("not TCP (or an IPv6 extension header)")
            self.src = _ipv6_text(data[self.ip_off + 8:self.ip_off + 24])
            self.dst = _ipv6_text(data[self.ip_off + 24:self.ip_off + 40])
            self.tcp_off = self.ip_off + 40
            end = self.tcp_off + payload_len
        else:
            raise ValueError("not IP")
        (self.sport, self.dport, self.seq, self.ack, off_flags) = struct.unpack_from(
            "!HHIIH", data, self.tcp_off)
        self.flags = off_flags & 0x3F
        self.payload_off = self.tcp_off + (off_flags >> 12) * 4
        self.headers = data[:self.payload_off]
        self.payload = data[self.payload_off:end]

    @property
    def client_key(self):
        return (self.src, self.sport, self.dst, self.dport)

    def rebuilt(self, seq, payload, flags=None):
        """This frame's headers around another payload, lengths and checksums recomputed."""
        hdr = bytearray(self.headers)
        tcp_len = len(hdr) - self.tcp_off + len(payload)
        if self.version == 4:
            struct.pack_into("!H", hdr, self.ip_off + 2, self.tcp_off - self.ip_off + tcp_len)
            struct.pack_into("!H", hdr, self.ip_off + 10, 0)
            struct.pack_into("!H", hdr, self.ip_off + 10,
                             _checksum(bytes(hdr[self.ip_off:self.tcp_off])))
            pseudo = bytes(hdr[self.ip_off + 12:self.ip_off + 20]) + struct.pack("!BBH", 0, 6, tcp_len)
        else:
            struct.pack_into("!H", hdr, self.ip_off + 4, tcp_len)
            pseudo = bytes(hdr[self.ip_off + 8:self.ip_off + 40]) + struct.pack("!IxxxB", tcp_len, 6)
        struct.pack_into("!I", hdr, self.tcp_off + 4, seq & 0xFFFFFFFF)
        if flags is not None:
            off_flags = struct.unpack_from("!H", hdr, self.tcp_off + 12)[0]
            struct.pack_into("!H", hdr, self.tcp_off + 12, (off_flags & ~0x3F) | flags)
        struct.pack_into("!H", hdr, self.tcp_off + 16, 0)
        struct.pack_into("!H", hdr, self.tcp_off + 16,
                         _checksum(pseudo + bytes(hdr[self.tcp_off:]) + payload))
        return bytes(hdr) + payload


def _ipv6_text(raw):
    return str(ipaddress.IPv6Address(raw))


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def connections(cap):
    """Records grouped by TCP connection, keyed by the client side (the SYN's sender)."""
    if cap.linktype != LINKTYPE_ETHERNET:
        raise ValueError("only Ethernet captures are handled (tcpdump on a veth)")
    conns, order = {}, []
    for index, rec in enumerate(cap.records):
        try:
            seg = Segment(rec[3])
        except (ValueError, struct.error):
            continue
        key = seg.client_key
        rkey = (seg.dst, seg.dport, seg.src, seg.sport)
        if key not in conns and rkey in conns:
            key = rkey
        elif key not in conns:
            if seg.flags & (TCP_SYN | TCP_ACK) != TCP_SYN:
                continue  # joined mid-stream: not a connection the lab made
            conns[key] = []
            order.append(key)
        conns[key].append(index)
    return [(key, conns[key]) for key in order]


def client_hello_segments(cap, key, indexes):
    """Indexes of the client data segments that carry the first TLS record (the ClientHello)."""
    out, have, need = [], 0, None
    for i in indexes:
        seg = Segment(cap.records[i][3])
        if seg.client_key != key or not seg.payload:
            continue
        if not out and (len(seg.payload) < 5 or seg.payload[0] != 0x16):
            raise ValueError(f"{key}: first client data is not a TLS handshake record")
        if need is None:
            need = 5 + struct.unpack_from("!H", seg.payload, 3)[0]
        out.append(i)
        have += len(seg.payload)
        if have >= need:
            return out
    raise ValueError(f"{key}: ClientHello not complete in the capture")


def read_manifest(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            label, tool, src, dst, dport, sni, tls, alpn, *rest = line.rstrip("\n").split("\t")
            flags = {}
            for flag in (rest[0].split(",") if rest and rest[0] else []):
                name, _, value = flag.partition("=")
                flags[name] = value
            rows.append(dict(label=label, tool=tool, src=src, dst=dst, dst_port=int(dport),
                             sni=None if sni == "-" else sni, tls=tls, alpn=alpn, flags=flags))
    return rows


def _pick(cap, conns, row, segments_wanted):
    for key, indexes in conns:
        if key[0] == row["src"] and key[3] == row["dst_port"]:
            if len(client_hello_segments(cap, key, indexes)) == segments_wanted:
                return key, indexes
    raise SystemExit(f"no connection of {row['label']} with a {segments_wanted}-segment ClientHello")


def make(capture_path, manifest_path, outdir):
    cap = read_pcap(capture_path)
    rows = {r["label"]: r for r in read_manifest(manifest_path)}
    conns = connections(cap)
    os.makedirs(outdir, exist_ok=True)
    lines = ["# variant\tclient\tclient_port\twhat"]

    def emit(name, key, records, what):
        cap.write(os.path.join(outdir, name), records)
        lines.append(f"{name}\t{key[0]}\t{key[1]}\t{what}")

    # Chromium's ClientHello is ~2 KB: two segments at MTU 1500.
    key, indexes = _pick(cap, conns, rows["chromium-1"], 2)
    first, second = client_hello_segments(cap, key, indexes)
    recs = [cap.records[i] for i in indexes]
    pos1, pos2 = indexes.index(first), indexes.index(second)

    swapped = list(recs)
    # Swap the frames but keep the timestamps where they were, so time still runs forward.
    swapped[pos1] = recs[pos1][:3] + (recs[pos2][3],)
    swapped[pos2] = recs[pos2][:3] + (recs[pos1][3],)
    emit("chromium-swapped.pcap", key, swapped, "ClientHello segments 2,1")

    seg1, seg2 = Segment(recs[pos1][3]), Segment(recs[pos2][3])
    half1, half2 = len(seg1.payload) // 2, len(seg2.payload) // 2
    overlap = seg1.rebuilt(seg1.seq + half1, seg1.payload[half1:] + seg2.payload[:half2])
    retrans = (recs[:pos1 + 1] + [recs[pos1]] + [recs[pos1][:2] + (len(overlap), overlap)] +
               recs[pos1 + 1:])
    emit("chromium-retrans.pcap", key, retrans,
         "segment 1, segment 1 again, bytes 1/2 of seg 1 to 1/2 of seg 2, segment 2")

    # curl's ClientHello fits one segment; cut it into 8.
    key, indexes = _pick(cap, conns, rows["curl-tls13"], 1)
    (only,) = client_hello_segments(cap, key, indexes)
    pos = indexes.index(only)
    recs = [cap.records[i] for i in indexes]
    seg = Segment(recs[pos][3])
    n = 8
    bounds = [len(seg.payload) * k // n for k in range(n + 1)]
    pieces = []
    for k in range(n):
        flags = seg.flags if k == n - 1 else seg.flags & ~TCP_PSH
        data = seg.rebuilt(seg.seq + bounds[k], seg.payload[bounds[k]:bounds[k + 1]], flags)
        pieces.append(recs[pos][:2] + (len(data), data))
    emit("curl-8seg.pcap", key, recs[:pos] + pieces + recs[pos + 1:], "ClientHello in 8 segments")

    with open(os.path.join(outdir, "variants.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    make(argv[1], argv[2], argv[3])


if __name__ == "__main__":
    main(sys.argv)
