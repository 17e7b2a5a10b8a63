#!/usr/bin/env python3
"""Writes the benchmark capture: many TLS connections to port 443 built from real hellos.

The ClientHellos, the servers' first flights (ServerHello through the end of the server's first
flight) and the clients' SYN options come from the JA4+ reference captures
(SHARED/conformance/foxio/pcap: browsers on Windows and macOS) and from our own lab capture
(tests/data/lab/lab.pcap: curl, openssl, Python, Node, GnuTLS, Java and Chromium on Linux), cut
out with tshark: the fingerprinting cost depends on what
real stacks send (GREASE, extension counts, padding, large key shares), so none are made up.
Everything around them is synthesised: one distinct client address and ephemeral port per
connection (many IPv4 /24s, a share over IPv6), the three-way handshake (the client's real SYN
options and TTL minus a hop count, a Linux server's SYN-ACK), the ClientHello (sometimes in two
segments), the server flight as one segment (as a capture with GRO sees it), the client's
Finished with its first request, request/response records, FIN/ACK both ways. About `--window`
connections are open at once: each of that many slots runs connections back to back, and the
packets of all of them are merged in time order.

Writes OUT (pcap, Ethernet, microsecond timestamps) and OUT.json: the parameters, the packet
and connection counts and the expected number of connections per SNI (for the bench's check).
Deterministic: the same arguments and captures give the same bytes.

With --prefix-output P it also writes the first --prefix-connections (10,000) connections
alone to P (and P.json): the same frames, for tools too slow for the whole capture.

Usage: gen_handshakes.py [-n CONNECTIONS] [--seed S] [--window W] [--ipv6-share F]
                         [--shared DIR] -o OUT.pcap [--prefix-output P [--prefix-connections K]]
Needs only python3 (stdlib) and tshark (to read the captures).
"""
import argparse
import bisect
import heapq
import json
import os
import random
import struct
import subprocess
import sys
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# (stack, capture, tcp.stream, weight[, server flight from (capture, tcp.stream)]). Weights
# roughly follow what an API's edge sees from browsers, libraries and scripts; each entry is a
# distinct real ClientHello. A capture holding only the ClientHello borrows the flight of a
# server that picked a cipher suite and version the client offered.
POOL = [
    ("chrome-win", "tls-handshake.pcapng", 0, 8),
    ("chrome-win", "tls-handshake.pcapng", 1, 8),
    ("chrome-win", "tls-handshake.pcapng", 11, 6),
    ("chrome-win", "tls-handshake.pcapng", 47, 5),
    ("chrome-win", "http2-with-cookies.pcapng", 0, 5),
    ("chrome-win-psk", "tls3.pcapng", 10, 6),       # resumption: 596 bytes with its PSK
    ("chrome-win-psk", "latest.pcapng", 5, 4),      # pre_shared_key resumption
    ("chrome-win", "latest.pcapng", 1, 3),          # server answers TLS 1.2
    ("edge-win", "browsers-x509.pcapng", 0, 6),
    ("edge-win", "ssh2.pcapng", 12, 3),
    ("chrome-linux", "badcurveball.pcap", 0, 3),
    ("firefox-linux", "tls12.pcap", 0, 10, ("tls-handshake.pcapng", 0)),  # TLS 1.3, 0x1301
    ("safari-macos", "macos_tcp_flags.pcap", 0, 9),
    ("schannel-tls12", "latest.pcapng", 3, 6),      # TLS 1.2-only library client, no ALPN
    ("schannel-tls12-h2", "ssh2.pcapng", 8, 4),
    ("curl-openssl-tls12", "ipv6.pcapng", 0, 10),   # 46 cipher suites, h2
    ("openssl-tls10", "https3-301-get.pcap", 0, 4),  # TLS 1.0, SNI only
    # Our own lab capture (tests/data/lab: real clients of Debian 12 against nginx): the
    # SDK-style clients an API sees most, and Chromium 156 with its 2 KB post-quantum hello.
    ("curl-openssl3", "lab:lab.pcap", 0, 5),
    ("curl-openssl3-tls12", "lab:lab.pcap", 1, 2),
    ("openssl-s_client", "lab:lab.pcap", 3, 2),
    ("openssl-s_client-nosni", "lab:lab.pcap", 5, 1),
    ("python-ssl", "lab:lab.pcap", 6, 6),
    ("node-tls", "lab:lab.pcap", 7, 5),
    ("gnutls-cli", "lab:lab.pcap", 8, 1),
    ("java-httpclient", "lab:lab.pcap", 9, 2),
    ("chromium-linux-pq", "lab:lab.pcap", 10, 3),
    ("chromium-linux-pq", "lab:lab.pcap", 12, 2),
]
LAB_DIR = os.path.join(os.path.dirname(HERE), "tests", "data", "lab")

# Fallback SYNs for streams captured without their handshake: (ttl, window, options).
WINDOWS_SYN = (128, 64240, bytes.fromhex("020405b40103030801010402"))
LINUX_SYN = (64, 64240, bytes.fromhex("020405b40402080a000000000000000001030307"))

SERVER_TTL = 64           # the capture runs on the server: its packets have not been routed
SERVER_WINDOW_SYN = 65160
SERVER_WINDOW = 501       # scaled by 2^7
RANDOM_BLOB_SIZE = 1 << 20


def die(msg):
    sys.exit("gen_handshakes: " + msg)


# ---------------------------------------------------------------- reading the reference hellos

def tshark_stream_rows(pcap, streams):
    """Starts tshark on the streams of `pcap`; returns a function that waits and parses."""
    fields = ["frame.time_epoch", "tcp.stream", "tcp.srcport", "tcp.flags", "tcp.seq_raw",
              "tcp.len", "ip.ttl", "ipv6.hlim", "tcp.window_size_value", "tcp.options",
              "tcp.payload"]
    cmd = ["tshark", "-n", "-r", pcap, "-Y",
           "tcp.stream in {%s}" % ",".join(str(s) for s in streams), "-T", "fields"]
    for f in fields:
        cmd += ["-e", f]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        die("cannot run tshark: %s" % e)
    return lambda: parse_rows(pcap, proc, len(fields))


def parse_rows(pcap, proc, nfields):
    out, err = proc.communicate()
    if proc.returncode != 0:
        die("tshark failed on %s: %s" % (pcap, err.strip()))
    rows = []
    for line in out.splitlines():
        c = line.split("\t")
        c += [""] * (nfields - len(c))
        # ICMP errors quoting a TCP header of the stream carry no sequence number: not data.
        if not c[4] or any("," in v for v in c[1:6]):
            continue
        rows.append({
            "ts": float(c[0]), "stream": int(c[1]), "sport": int(c[2]),
            "flags": int(c[3], 16), "seq": int(c[4]), "len": int(c[5] or 0),
            "ttl": int((c[6] or c[7] or "0").split(",")[0]),
            "win": int(c[8] or 0), "opts": bytes.fromhex(c[9].replace(":", "")),
            "payload": bytes.fromhex(c[10].replace(":", "")),
        })
    return rows


def stream_bytes(segments):
    """Joins (seq, payload) segments in sequence order, dropping retransmitted bytes."""
    out = bytearray()
    base = None
    for seq, data in sorted(segments):
        if base is None:
            base = seq
        off = (seq - base) & 0xFFFFFFFF
        if off + len(data) > len(out):
            out += data[len(out) - off:] if off <= len(out) else b""
    return bytes(out)


def whole_records(data, want_handshake_msg=False):
    """The longest prefix of `data` made of whole TLS records; with want_handshake_msg, only as
    many records as the first handshake message needs."""
    pos = 0
    hs_need = None
    hs_have = 0
    while pos + 5 <= len(data):
        rlen = struct.unpack_from("!H", data, pos + 3)[0]
        if pos + 5 + rlen > len(data):
            break
        if want_handshake_msg:
            body = data[pos + 5:pos + 5 + rlen]
            if hs_need is None:
                hs_need = 4 + int.from_bytes(body[1:4], "big")
            hs_have += rlen
            pos += 5 + rlen
            if hs_have >= hs_need:
                return data[:pos]
            continue
        pos += 5 + rlen
    return None if want_handshake_msg else data[:pos]


def server_hello_info(flight):
    """(TLS 1.3?, legacy version, cipher suite) of the ServerHello record starting `flight`."""
    body = flight[5:]
    version = struct.unpack_from("!H", body, 4)[0]
    p = 4 + 2 + 32
    p += 1 + body[p]             # session id
    cipher = struct.unpack_from("!H", body, p)[0]
    p += 2 + 1                   # cipher, compression
    tls13 = False
    if p + 2 <= len(body):
        end = min(len(body), p + 2 + struct.unpack_from("!H", body, p)[0])
        p += 2
        while p + 4 <= end:
            etype, elen = struct.unpack_from("!HH", body, p)
            if etype == 0x002B and elen == 2:
                tls13 = body[p + 4:p + 6] == b"\x03\x04"
            p += 4 + elen
    return tls13, version, cipher


def key_exchange(flight):
    """How the client's key exchange message looks after this ServerHello."""
    tls13, _, cipher = server_hello_info(flight)
    if tls13:
        return "tls13"
    if cipher >> 8 in (0xC0, 0xCC):
        return "ecdhe"  # one-byte length, a 32-byte X25519 share
    return "rsa"        # RSA premaster or DHE share: two-byte length, 256 bytes


def sni_of(hello):
    """The server_name in a ClientHello record ("" when absent)."""
    body = hello[5:]
    p = 4 + 2 + 32
    p += 1 + body[p]
    p += 2 + struct.unpack_from("!H", body, p)[0]
    p += 1 + body[p]
    end = p + 2 + struct.unpack_from("!H", body, p)[0]
    p += 2
    while p + 4 <= end:
        etype, elen = struct.unpack_from("!HH", body, p)
        if etype == 0:
            nlen = struct.unpack_from("!H", body, p + 4 + 3)[0]
            return body[p + 9:p + 9 + nlen].decode("ascii", "replace")
        p += 4 + elen
    return ""


def complete_tls13_flight(flight, where):
    """A TLS 1.3 flight cut after ServerHello/ChangeCipherSpec in the reference capture gets
    its encrypted rest (EncryptedExtensions..Finished: random bytes to any observer) as one
    record of a size fixed per source, 2-5 KB like a certificate chain."""
    if not server_hello_info(flight)[0]:
        return flight
    pos = 0
    while pos + 5 <= len(flight):
        if flight[pos] == 0x17:
            return flight
        pos += 5 + struct.unpack_from("!H", flight, pos + 3)[0]
    r = random.Random(zlib.crc32(where.encode()))
    n = r.randint(2000, 5000)
    return flight + b"\x17\x03\x03" + struct.pack("!H", n) + r.randbytes(n)


def load_pool(shared):
    pcap_dir = os.path.join(shared, "conformance", "foxio", "pcap")
    by_pcap = {}
    for stack, pcap, stream, weight, *borrow in POOL:
        by_pcap.setdefault(pcap, []).append((stack, stream, weight, borrow[0] if borrow else None))
    pool = []
    # One tshark per capture, all at once: its start-up, not the reading, is what takes time.
    waiting = []
    for pcap, entries in by_pcap.items():
        path = (os.path.join(LAB_DIR, pcap[4:]) if pcap.startswith("lab:")
                else os.path.join(pcap_dir, pcap))
        if not os.path.exists(path):
            die("reference capture missing: " + path)
        waiting.append((pcap, entries, tshark_stream_rows(path, [e[1] for e in entries])))
    for pcap, entries, wait in waiting:
        rows = wait()
        for stack, stream, weight, borrow in entries:
            pool.append(extract_entry(stack, pcap, stream, weight, borrow,
                                      [r for r in rows if r["stream"] == stream]))
    by_source = {(e["pcap"], e["stream"]): e for e in pool}
    for e in pool:
        if e["flight"] is None:
            lender = by_source[e["borrow"]]
            e["flight"] = lender["flight"]
    for e in pool:
        e["kx"] = key_exchange(e["flight"])
        version = server_hello_info(e["flight"])[1]
        e["record_version"] = struct.pack("!H", min(version, 0x0303))
    return pool


def extract_entry(stack, pcap, stream, weight, borrow, rows):
    where = "%s stream %d" % (pcap, stream)
    syn = next((r for r in rows if r["flags"] & 0x12 == 0x02), None)
    first_data = next((r for r in rows if r["len"] and r["payload"][:1] == b"\x16"), None)
    if first_data is None:
        die("no TLS record in " + where)
    cport = syn["sport"] if syn else first_data["sport"]
    client = [r for r in rows if r["sport"] == cport]
    server = [r for r in rows if r["sport"] != cport]
    cdata = stream_bytes([(r["seq"], r["payload"]) for r in client if r["len"]])
    hello = whole_records(cdata[cdata.find(b"\x16\x03"):], want_handshake_msg=True)
    if not hello or hello[5] != 1:
        die("no whole ClientHello in " + where)
    # The server's first flight: what it sent before the client's second flight.
    flight = None
    if borrow is None:
        # The hello's segments by their place in the stream (a hello in two segments has a
        # second one that does not start a record); the client's next bytes start its second
        # flight.
        data_rows = [r for r in client if r["len"]]
        base = min(data_rows, key=lambda r: r["ts"])["seq"]
        hello_end = cdata.find(b"\x16\x03") + len(hello)
        in_hello = [((r["seq"] - base) & 0xFFFFFFFF) < hello_end for r in data_rows]
        hello_end_ts = max(r["ts"] for r, h in zip(data_rows, in_hello) if h)
        second = [r["ts"] for r, h in zip(data_rows, in_hello) if not h and r["ts"] > hello_end_ts]
        cutoff = min(second) if second else float("inf")
        sdata = stream_bytes([(r["seq"], r["payload"]) for r in server
                              if r["len"] and r["ts"] < cutoff])
        flight = whole_records(sdata[sdata.find(b"\x16\x03"):])
        if not flight or flight[5] != 2:
            die("no whole ServerHello in " + where)
        flight = complete_tls13_flight(flight[:16384], where)
    if syn:
        ttl, win, opts = syn["ttl"], syn["win"], syn["opts"]
    else:
        ttl, win, opts = WINDOWS_SYN if first_data["ttl"] > 64 else LINUX_SYN
    acks = [r["win"] for r in client if not r["flags"] & 0x02]
    return {
        "stack": stack, "source": where, "pcap": pcap, "stream": stream, "borrow": borrow,
        "weight": weight, "hello": hello, "flight": flight,
        "sni": sni_of(hello),
        "syn_ttl": 128 if ttl > 64 else 64, "syn_window": win, "syn_options": opts,
        "window": acks[0] if acks else 512, "ts_on": has_option(opts, 8),
        "sack": has_option(opts, 4),
        "template": HelloTemplate(hello, stack.startswith(("chrom", "edge"))),
    }


# ---------------------------------------------------------------- per-connection hellos
#
# A real client never sends the same ClientHello twice: the random, the session id and the key
# shares are fresh, and Chromium (Chrome, Edge) also permutes its extensions and draws new
# GREASE values for every connection (JA3 and ja4_o change, JA4 does not). A capture repeating
# the pool's byte-identical hellos would let a fingerprint cache look better than it is on real traffic,
# so each connection gets its own hello, varied the way its stack varies it. Lengths never
# change.

GREASE_VALUES = [0x0A0A + 0x1010 * i for i in range(16)]


def is_grease(v):
    return v & 0x0F0F == 0x0A0A and v >> 8 == v & 0xFF


class HelloTemplate:
    """Where a ClientHello's per-connection fields are. Single-record hellos only (every pool
    entry is one); anything unexpected leaves the hello as captured."""

    def __init__(self, hello, chromium):
        self.hello = hello
        self.ok = False
        try:
            self._parse(hello, chromium)
            self.ok = True
        except (IndexError, struct.error, ValueError):
            pass

    def _parse(self, h, chromium):
        if struct.unpack_from("!H", h, 3)[0] != len(h) - 5:
            raise ValueError("hello spans records")
        p = 9 + 2
        self.random_off = p
        p += 32
        self.sid_off, self.sid_len = p + 1, h[p]
        p += 1 + h[p]
        nciph = struct.unpack_from("!H", h, p)[0]
        self.cipher_grease = [p + 2 + i for i in range(0, nciph, 2)
                              if is_grease(struct.unpack_from("!H", h, p + 2 + i)[0])]
        p += 2 + nciph
        p += 1 + h[p]
        ext_end = p + 2 + struct.unpack_from("!H", h, p)[0]
        p += 2
        self.prefix = h[:p]
        self.exts = []  # (type, bytes, [(what, offset in the extension, length)])
        while p < ext_end:
            etype, elen = struct.unpack_from("!HH", h, p)
            body = p + 4
            edits = []
            if chromium and is_grease(etype):
                edits.append(("ext", 0, 2))
            elif etype == 0x000A:  # supported_groups
                n = struct.unpack_from("!H", h, body)[0]
                edits += [("group", 6 + i, 2) for i in range(0, n, 2)
                          if chromium and is_grease(struct.unpack_from("!H", h, body + 2 + i)[0])]
            elif etype == 0x002B:  # supported_versions
                edits += [("version", 5 + i, 2) for i in range(0, h[body], 2)
                          if chromium and is_grease(struct.unpack_from("!H", h, body + 1 + i)[0])]
            elif etype == 0x0033:  # key_share: a GREASE group, fresh public keys
                q = body + 2
                while q < body + elen:
                    group, klen = struct.unpack_from("!HH", h, q)
                    if is_grease(group):
                        if chromium:
                            edits.append(("group", q - p, 2))
                    else:
                        edits.append(("random", q + 4 - p, klen))
                    q += 4 + klen
            self.exts.append((etype, h[p:body + elen], edits))
            p = body + elen
        if p != ext_end or ext_end != len(h):
            raise ValueError("extension lengths")
        # Chromium keeps GREASE first and last, padding and pre_shared_key at the end.
        self.movable = [i for i, (t, _, _) in enumerate(self.exts)
                        if chromium and not is_grease(t) and t not in (0x0015, 0x0029)]

    def make(self, g):
        """A fresh hello; `g` is the Generator (its rng and random bytes)."""
        if not self.ok:
            return self.hello
        r = g.rng
        grease = {k: GREASE_VALUES[int(r.random() * 16)] for k in ("cipher", "group", "version")}
        ext_grease = [GREASE_VALUES[int(r.random() * 16)]]
        ext_grease.append(ext_grease[0] ^ 0x1010)  # the two GREASE extensions must differ
        pre = bytearray(self.prefix)
        pre[self.random_off:self.random_off + 32] = g.randbytes(32)
        pre[self.sid_off:self.sid_off + self.sid_len] = g.randbytes(self.sid_len)
        for off in self.cipher_grease:
            struct.pack_into("!H", pre, off, grease["cipher"])
        order = list(range(len(self.exts)))
        if self.movable:
            moved = self.movable[:]
            r.shuffle(moved)
            for pos, idx in zip(self.movable, moved):
                order[pos] = idx
        parts = [pre]
        n_ext_grease = 0
        for idx in order:
            _, body, edits = self.exts[idx]
            if edits:
                body = bytearray(body)
                for what, off, n in edits:
                    if what == "random":
                        body[off:off + n] = g.randbytes(n)
                    elif what == "ext":
                        struct.pack_into("!H", body, off, ext_grease[min(n_ext_grease, 1)])
                        n_ext_grease += 1
                    else:
                        struct.pack_into("!H", body, off, grease[what])
            parts.append(body)
        return b"".join(parts)


# ---------------------------------------------------------------- packets
#
# Checksums use 2^16 = 1 (mod 0xffff): the one's complement sum of a byte string's 16-bit words
# is, modulo 0xffff, the string read as one big-endian integer; and a 32-bit field adds as its
# plain value. So a checksum is a few additions and one big-integer remainder, all in C.

ROUTER_MAC = bytes.fromhex("0c86104d7a31")
SERVER_MAC = bytes.fromhex("3cfdfea21108")
FIN, SYN, PSH, ACK = 0x01, 0x02, 0x08, 0x10

V4_FRAME = struct.Struct("!6s6sH BBHHHBBH4s4s HHIIBBHH H")
V6_FRAME = struct.Struct("!6s6sH IHBB16s16s HHIIBBHH H")


def word_sum(b):
    """Sum of `b`'s 16-bit big-endian words modulo 0xffff (odd length: zero padded)."""
    x = int.from_bytes(b, "big")
    return (x << 8 if len(b) & 1 else x) % 0xFFFF


class Conn:
    """One connection's addressing, precomputed so that a frame costs one struct.pack."""

    __slots__ = ("v6", "caddr", "saddr", "cport", "cttl", "cid", "sid", "flow_c", "flow_s",
                 "tcp_const", "ip_const_c", "ip_const_s")

    def __init__(self, v6, caddr, saddr, cport, cttl, bits):
        self.v6, self.caddr, self.saddr, self.cport, self.cttl = v6, caddr, saddr, cport, cttl
        self.cid = bits & 0xFFFF
        self.sid = (bits >> 16) & 0xFFFF
        self.flow_c = (bits >> 32) & 0xFFFFF
        self.flow_s = (bits >> 52) & 0xFFFFF
        addr_sum = word_sum(caddr + saddr)
        # Pseudo header (addresses, protocol) and both ports: the same in both directions.
        self.tcp_const = addr_sum + 6 + cport + 443
        self.ip_const_c = 0x4500 + 0x4000 + (cttl << 8 | 6) + addr_sum
        self.ip_const_s = 0x4500 + 0x4000 + (SERVER_TTL << 8 | 6) + addr_sum

    def frame(self, from_client, flags, seq, ack, window, options, payload):
        """Ethernet + IP + TCP with valid checksums."""
        seq &= 0xFFFFFFFF
        ack &= 0xFFFFFFFF
        hlen = 20 + len(options)
        tcp_len = hlen + len(payload)
        # A sum that is 0 mod 0xffff is 0xffff in one's complement (the data is never all
        # zero), whose complement is 0: hence the final "% 0xFFFF".
        ck = (0xFFFF - (self.tcp_const + tcp_len + seq + ack + (hlen << 10 | flags) + window
                        + word_sum(options) + word_sum(payload)) % 0xFFFF) % 0xFFFF
        if from_client:
            sport, dport = self.cport, 443
        else:
            sport, dport = 443, self.cport
        if self.v6:
            if from_client:
                eth_dst, eth_src, word0, hlim = SERVER_MAC, ROUTER_MAC, self.flow_c, self.cttl
                src, dst = self.caddr, self.saddr
            else:
                eth_dst, eth_src, word0, hlim = ROUTER_MAC, SERVER_MAC, self.flow_s, SERVER_TTL
                src, dst = self.saddr, self.caddr
            return V6_FRAME.pack(eth_dst, eth_src, 0x86DD, 0x60000000 | word0, tcp_len, 6, hlim,
                                 src, dst, sport, dport, seq, ack, hlen << 2, flags, window, ck,
                                 0) + options + payload
        if from_client:
            self.cid = ident = (self.cid + 1) & 0xFFFF
            eth_dst, eth_src, ttl, src, dst = SERVER_MAC, ROUTER_MAC, self.cttl, self.caddr, \
                self.saddr
            ipck = (0xFFFF - (self.ip_const_c + 20 + tcp_len + ident) % 0xFFFF) % 0xFFFF
        else:
            self.sid = ident = (self.sid + 1) & 0xFFFF
            eth_dst, eth_src, ttl, src, dst = ROUTER_MAC, SERVER_MAC, SERVER_TTL, self.saddr, \
                self.caddr
            ipck = (0xFFFF - (self.ip_const_s + 20 + tcp_len + ident) % 0xFFFF) % 0xFFFF
        return V4_FRAME.pack(eth_dst, eth_src, 0x0800, 0x45, 0, 20 + tcp_len, ident, 0x4000, ttl,
                             6, ipck, src, dst, sport, dport, seq, ack, hlen << 2, flags, window,
                             ck, 0) + options + payload


def patch_syn_options(opts, mss, tsval):
    """The client's real SYN options with this connection's MSS and timestamp value."""
    out = bytearray(opts)
    i = 0
    while i < len(out):
        kind = out[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(out) or out[i + 1] < 2:
            break
        olen = out[i + 1]
        if kind == 2 and olen == 4:
            struct.pack_into("!H", out, i + 2, mss)
        elif kind == 8 and olen == 10:
            struct.pack_into("!II", out, i + 2, tsval & 0xFFFFFFFF, 0)
        i += olen
    return bytes(out)


def has_option(opts, want):
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            return False
        if kind == 1:
            i += 1
            continue
        if kind == want:
            return True
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            return False
        i += opts[i + 1]
    return False


class Generator:
    def __init__(self, args, pool):
        self.rng = random.Random(args.seed)
        self.pool = pool
        self.cum_weights = []
        total = 0
        for e in pool:
            total += e["weight"]
            self.cum_weights.append(total)
        self.blob = random.Random(args.seed ^ 0x5EED).randbytes(RANDOM_BLOB_SIZE)
        self.ipv6_share = args.ipv6_share
        # Client networks: 4096 IPv4 /24s and 512 IPv6 /48s, public-looking, spread out.
        r = self.rng
        nets = set()
        while len(nets) < 4096:
            a = r.choice([r.randint(1, 99), r.randint(101, 126), r.randint(128, 168),
                          r.randint(170, 191), r.randint(193, 223)])
            nets.add((a, r.randint(0, 255), r.randint(0, 255)))
        self.v4nets = sorted(nets)
        r.shuffle(self.v4nets)
        self.v6nets = [struct.pack("!HHH", 0x2000 | r.getrandbits(9), r.getrandbits(16),
                                   r.getrandbits(16)) for _ in range(512)]
        self.v4servers = [bytes([203, 0, 113, 10 + i]) for i in range(4)]
        self.v6servers = [bytes.fromhex("20010db8000100000000000000000443")]
        self.n4 = 0
        self.n6 = 0

    def uniform_int(self, lo, hi):
        """lo..hi inclusive; cheaper than random.randint, which dominated the profile."""
        return lo + int(self.rng.random() * (hi - lo + 1))

    def randbytes(self, n):
        off = int(self.rng.random() * (RANDOM_BLOB_SIZE - n))
        return self.blob[off:off + n]

    def record(self, ctype, version, body):
        return bytes((ctype,)) + version + struct.pack("!H", len(body)) + body

    def addresses(self):
        """A client address no other connection has, and a server address."""
        r = self.rng
        if r.random() < self.ipv6_share:
            i = self.n6
            self.n6 += 1
            net = self.v6nets[i % len(self.v6nets)]
            iid = struct.pack("!Q", (r.getrandbits(48) << 16) | (i // len(self.v6nets) & 0xFFFF))
            return True, net + b"\0\0" + iid, self.v6servers[0]
        i = self.n4
        self.n4 += 1
        a, b, c = self.v4nets[i % len(self.v4nets)]
        host = 1 + (i // len(self.v4nets)) % 254
        # More than 4096 * 254 connections: the addresses repeat, the ports still differ.
        return False, bytes([a, b, c, host]), self.v4servers[i % len(self.v4servers)]

    def connection(self, t0):
        """One connection starting at t0 (µs): its [(ts, frame)] in time order, its pool entry,
        whether it is IPv6."""
        r = self.rng
        rand = r.random
        uni = self.uniform_int
        e = self.pool[bisect.bisect_right(self.cum_weights, rand() * self.cum_weights[-1])]
        v6, caddr, saddr = self.addresses()
        windows_client = e["syn_ttl"] == 128
        cport = uni(49152, 65535) if windows_client else uni(32768, 60999)
        c = Conn(v6, caddr, saddr, cport, e["syn_ttl"] - uni(3, 24), r.getrandbits(72))
        frame = c.frame
        mss = 1440 if v6 else 1460
        ts_on = e["ts_on"]
        tsc = r.getrandbits(32)
        tss = r.getrandbits(32)
        rtt = int(min(300000, 2000 + r.lognormvariate(9.8, 0.8)))  # µs, median ~20 ms
        cwin = e["window"]
        out = []
        append = out.append
        t = t0

        def opts(from_client):
            if not ts_on:
                return b""
            ms = (t - t0) // 1000
            a, b = (tsc, tss) if from_client else (tss, tsc)
            return struct.pack("!BBBBII", 1, 1, 8, 10, (a + ms) & 0xFFFFFFFF,
                               (b + ms) & 0xFFFFFFFF)

        cseq = r.getrandbits(32)
        sseq = r.getrandbits(32)
        # Three-way handshake: the client's real SYN, a Linux server's SYN-ACK (timestamps and
        # SACK only when offered).
        append((t, frame(True, SYN, cseq, 0, e["syn_window"],
                         patch_syn_options(e["syn_options"], mss, tsc), b"")))
        sa_opts = struct.pack("!BBH", 2, 4, mss)
        if ts_on:
            sa_opts += (b"\x04\x02" if e["sack"] else b"\x01\x01") + struct.pack(
                "!BBII", 8, 10, tss, tsc)
        elif e["sack"]:
            sa_opts += b"\x01\x01\x04\x02"
        sa_opts += b"\x01\x03\x03\x07"
        t += uni(20, 120)
        append((t, frame(False, SYN | ACK, sseq, cseq + 1, SERVER_WINDOW_SYN, sa_opts, b"")))
        cseq += 1
        sseq += 1
        t += rtt
        append((t, frame(True, ACK, cseq, sseq, cwin, opts(True), b"")))
        # ClientHello, split when longer than a segment or, sometimes, by the client anyway.
        hello = e["template"].make(self)
        seg_max = mss - (12 if ts_on else 0)
        parts = [hello]
        if len(hello) > seg_max:
            parts = [hello[:seg_max], hello[seg_max:]]
        elif rand() < 0.12:
            cut = uni(1, len(hello) - 1)
            parts = [hello[:cut], hello[cut:]]
        for part in parts:
            t += uni(40, 900)
            append((t, frame(True, PSH | ACK, cseq, sseq, cwin, opts(True), part)))
            cseq += len(part)
        # The server's first flight in one segment.
        t += uni(150, 3000)
        flight = e["flight"]
        append((t, frame(False, PSH | ACK, sseq, cseq, SERVER_WINDOW, opts(False), flight)))
        sseq += len(flight)
        # The client's Finished flight rides with its first request, the server's last
        # handshake records with its first response.
        rv = e["record_version"]
        record = self.record
        if e["kx"] == "tls13":
            finished = record(0x14, rv, b"\x01") + record(0x17, rv, self.randbytes(53))
            server_fin = record(0x17, rv, self.randbytes(250))  # NewSessionTicket
        else:
            if e["kx"] == "ecdhe":
                kx = b"\x10\x00\x00\x21\x20" + self.randbytes(32)
            else:
                kx = b"\x10\x00\x01\x02\x01\x00" + self.randbytes(256)
            finished = (record(0x16, rv, kx) + record(0x14, rv, b"\x01")
                        + record(0x16, rv, self.randbytes(40)))
            server_fin = record(0x14, rv, b"\x01") + record(0x16, rv, self.randbytes(40))
        x = rand()
        exchanges = 0 if x < 0.08 else 1 if x < 0.82 else 2 if x < 0.96 else 3
        t += rtt + uni(200, 3000)
        if exchanges == 0:  # a probe or an aborted client: Finished only
            append((t, frame(True, PSH | ACK, cseq, sseq, cwin, opts(True), finished)))
            cseq += len(finished)
        for k in range(exchanges):
            req = record(0x17, rv, self.randbytes(uni(90, min(1200, seg_max - 400))))
            if k == 0:
                req = finished + req
            append((t, frame(True, PSH | ACK, cseq, sseq, cwin, opts(True), req)))
            cseq += len(req)
            t += 100 + int(r.lognormvariate(8.5, 1.0))  # the API's response time, median ~5 ms
            resp = record(0x17, rv, self.randbytes(uni(60, seg_max - 400)))
            if k == 0:
                resp = server_fin + resp
            append((t, frame(False, PSH | ACK, sseq, cseq, SERVER_WINDOW, opts(False), resp)))
            sseq += len(resp)
            t += rtt + int(r.lognormvariate(10.0, 1.0))  # the client's think time, ~20 ms
        # Close: usually the client first, sometimes the server (keep-alive timeout).
        t += uni(100, 5000)
        first = rand() < 0.8  # True: the client closes
        second = not first
        seqs = {True: cseq, False: sseq}
        win = {True: cwin, False: SERVER_WINDOW}
        append((t, frame(first, FIN | ACK, seqs[first], seqs[second], win[first], opts(first),
                         b"")))
        t += rtt if first else uni(30, 200)
        seqs[first] += 1
        append((t, frame(second, FIN | ACK, seqs[second], seqs[first], win[second],
                         opts(second), b"")))
        t += uni(30, 200) if first else rtt
        seqs[second] += 1
        append((t, frame(first, ACK, seqs[first], seqs[second], win[first], opts(first), b"")))
        return out, e, v6


class PcapWriter:
    """A classic pcap file (Ethernet, microseconds) and the counts its manifest reports."""

    HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    RECORD = struct.Struct("<IIII").pack

    def __init__(self, path):
        # Written 4 MiB at a time: the kernel then caches the file in large folios, as it
        # does a capture read from disk (readahead). Python's default 8 KiB writes leave it in
        # 4 KiB pages, whose mapping would cost sybilwatch's mmap reader (not p0f's or
        # tshark's reads) 15% more; see docs/benchmarks.md.
        self.f = open(path, "wb", buffering=4 << 20)
        self.f.write(self.HEADER)
        self.packets = 0
        self.connections = 0
        self.last_ts = 0
        self.per_sni = {}
        self.per_stack = {}
        self.ipv6 = 0

    def count(self, e, v6):
        self.connections += 1
        self.per_sni[e["sni"]] = self.per_sni.get(e["sni"], 0) + 1
        self.per_stack[e["stack"]] = self.per_stack.get(e["stack"], 0) + 1
        self.ipv6 += v6

    def write(self, ts, fr):
        self.f.write(self.RECORD(ts // 1_000_000, ts % 1_000_000, len(fr), len(fr)) + fr)
        self.last_ts = ts
        self.packets += 1

    def manifest(self, args, start_us):
        self.f.close()
        return {
            "connections": self.connections, "packets": self.packets, "seed": args.seed,
            "window": args.window, "ipv6_share": args.ipv6_share, "ipv6_connections": self.ipv6,
            "duration_s": round((self.last_ts - start_us) / 1e6, 3),
            "per_sni": dict(sorted(self.per_sni.items())),
            "per_stack": dict(sorted(self.per_stack.items())),
        }


def generate(args, pool):
    """Writes the capture (and the prefix capture); returns their manifests."""
    g = Generator(args, pool)
    start_us = 1_700_000_000 * 1_000_000
    # Slots: each runs connections back to back, so about `window` are open at any time. They
    # start spread over a second so the capture does not open with a burst of SYNs.
    slots = [(start_us + g.uniform_int(0, 1_000_000), s) for s in range(args.window)]
    heapq.heapify(slots)
    out = PcapWriter(args.output)
    # The prefix: the first connections, byte for byte the frames they have in the full capture
    # (connections are drawn in start order from one random stream).
    prefix = PcapWriter(args.prefix_output) if args.prefix_output else None
    prefix_n = args.prefix_connections if prefix else 0
    pending = []  # (ts, seq, connection index, frame) of started connections
    seq = 0
    concurrency_samples = []
    open_ends = []  # end times of open connections, for the concurrency figure

    def emit_until(t):
        while pending and pending[0][0] <= t:
            ts, _, idx, fr = heapq.heappop(pending)
            out.write(ts, fr)
            if idx < prefix_n:
                prefix.write(ts, fr)

    for i in range(args.connections):
        t0, slot = heapq.heappop(slots)
        # Every connection still to come starts at or after t0: frames before it are final.
        emit_until(t0)
        frames, e, v6 = g.connection(t0)
        for ts, fr in frames:
            heapq.heappush(pending, (ts, seq, i, fr))
            seq += 1
        end = frames[-1][0]
        while open_ends and open_ends[0] <= t0:
            heapq.heappop(open_ends)
        heapq.heappush(open_ends, end)
        if i % 97 == 0:
            concurrency_samples.append(len(open_ends))
        out.count(e, v6)
        if i < prefix_n:
            prefix.count(e, v6)
        # The slot's next connection after a short pause.
        heapq.heappush(slots, (end + g.uniform_int(100, 20000), slot))
    emit_until(float("inf"))
    concurrency_samples.sort()
    manifest = out.manifest(args, start_us)
    manifest["open_connections_median"] = concurrency_samples[len(concurrency_samples) // 2]
    manifest["pool"] = [{"stack": e["stack"], "source": e["source"], "sni": e["sni"],
                         "hello_bytes": len(e["hello"]), "flight_bytes": len(e["flight"]),
                         "key_exchange": e["kx"]} for e in pool]
    return manifest, prefix.manifest(args, start_us) if prefix else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--connections", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--window", type=int, default=1000, help="connections open at once")
    ap.add_argument("--ipv6-share", type=float, default=0.15)
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"),
                    help="the shared folder holding conformance/foxio/pcap")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--prefix-connections", type=int, default=10_000)
    ap.add_argument("--prefix-output", help="also write the first --prefix-connections "
                    "connections, alone, to this file")
    args = ap.parse_args()
    if args.connections < 1 or args.window < 1:
        die("--connections and --window must be positive")
    started = time.monotonic()
    pool = load_pool(args.shared)
    manifest, prefix_manifest = generate(args, pool)
    manifest["generation_s"] = round(time.monotonic() - started, 2)
    for path, m in ((args.output, manifest), (args.prefix_output, prefix_manifest)):
        if m:
            with open(path + ".json", "w") as f:
                json.dump(m, f, indent=1)
                f.write("\n")
    print("gen_handshakes: %d connections, %d packets, %.1f s of traffic, ~%d open at once, "
          "written in %.1f s" % (manifest["connections"], manifest["packets"],
                                 manifest["duration_s"], manifest["open_connections_median"],
                                 manifest["generation_s"]), file=sys.stderr)


if __name__ == "__main__":
    main()
