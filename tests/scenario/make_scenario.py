#!/usr/bin/env python3
"""Writes the account-farm scenario: a capture, its identity feed and the truth about it.

Seven farms hidden among thousands of ordinary accounts. Four (150-400 accounts each, driven by
one orchestrator in ten rounds through the residential or datacenter exits of a proxy provider,
on uncommon automation stacks) are for the link rule; so is farm_golf (120 accounts from six
VPSes in three /24s), which shared_uncommon_stack must also find. farm_foxtrot (30 accounts,
each connecting about six times an hour through a fresh residential exit) leaves nothing to
link but is for proxy_rotation (`aggregate_found` in the manifest). farm_echo (60 accounts) runs
headless Chromium, a stack millions share, through residential exits with their own TCP stacks
and RTTs, so no stack, network or TCP key ties it together; only its scheduler does: about half
of the 360 minutes are on, in batches, and in each of them nearly every account connects, so it
is for the synchrony rule. The manifest's `found_by` names the rule kind that must find each
farm. The ordinary accounts: home users on browsers and the service's official SDKs (mostly
one /24 each), office NATs (50 people behind one address), a mobile carrier's NAT (hundreds of
users on a few addresses), one legitimate account used from 20 machines, and independent
customers whose scheduled jobs run on one cloud provider's networks with the same SDK, and 80
users of a third-party desktop client (an uncommon stack, one or two home networks each). No
ordinary account connects in more than 60 of the 360 minutes (the one on 20 machines is the
busiest: 58 with the default seed), so none is even compared for lock-step (from 90 minutes);
farm_echo's accounts connect in 155-169.

What makes it hard is what the real thing shares:
- stacks: one farm uses the official Python SDK's stack (httpx on OpenSSL 3), another the
  official Node SDK's; two farms share a stack and are told apart only by their networks;
  farm_echo runs the same Chromium as ordinary people;
- networks: offices and the carrier put many ordinary accounts on one address;
- timing: the cloud customers' cron jobs fire at the same minutes (:00, :30), farm_echo's
  accounts start their connections at random seconds of each minute on.
Behind a proxy the TCP connection is the exit node's (its OS's SYN, its RTT) while the TLS
ClientHello is the farm's (the proxy tunnels it), and so it is here.

Every connection: SYN / SYN-ACK / ACK (per-OS TTL, window and options; RTT from the client's
network), the ClientHello (two segments when it is longer than the MSS, as Chrome's
post-quantum hello is), a TLS 1.3 ServerHello flight, 1-3 requests with their responses, FIN
both ways. The identity feed has one line per request: ts, client_ip, client_port, account,
server_port, user_agent, request_id. Client address and port pairs are never reused.

Writes OUT_DIR/scenario.pcap, OUT_DIR/identity.jsonl and OUT_DIR/manifest.json (last: its
presence marks a complete scenario). Seeded and deterministic: the same arguments give the same
bytes. Standard library only.

usage: make_scenario.py OUT_DIR [--seed N] [--scale F]
"""
import argparse
import hashlib
import ipaddress
import json
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.environ.get("SW_SHARED_DIR", os.path.join(os.path.dirname(REPO), "shared"))
T0 = 1741593600  # 2025-03-10 08:00:00 UTC
HOURS = 6
SERVER_V4 = bytes([203, 0, 113, 10])
SERVER_V6 = ipaddress.IPv6Address("2001:db8:443::10").packed
SERVER_PORT = 443
SNI = b"api.example.com"
SERVER_MAC = bytes.fromhex("020000000001")
CLIENT_MAC = bytes.fromhex("020000000002")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CUT = 16  # captured payload bytes of an application-data frame
GREASE = [0x0A0A + 0x1010 * i for i in range(16)]

# ------------------------------------------------------------------------------ client stacks
# Each stack: cipher suites and extensions in the order it sends them ("G" = a GREASE value,
# chosen per connection), ALPN, supported groups, signature algorithms, key shares, whether
# the extension order is shuffled per connection (Chrome since 110), and padding to 512.
SIG_COMMON = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
SIG_OPENSSL = [0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809, 0x080A, 0x080B, 0x0804,
               0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0402,
               0x0502, 0x0602]
SIG_GO = [0x0804, 0x0403, 0x0807, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0503, 0x0603,
          0x0201, 0x0203]

STACKS = {
    # Chrome 131-like (unused while REAL_HELLOS has "chrome": the real bytes win).
    "chrome": dict(
        ciphers=["G", 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
                 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
        exts=["G", 0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0023, 0x0010, 0x0005, 0x000D,
              0x0012, 0x0033, 0x002D, 0x002B, 0x001B, 0x44CD, 0xFE0D, "G"],
        alpn=[b"h2", b"http/1.1"], groups=["G", 0x11EC, 0x001D, 0x0017, 0x0018],
        sigs=SIG_COMMON, shares=["G", 0x11EC, 0x001D], shuffle=True, pad=False,
        versions=["G", 0x0304, 0x0303],
        ua="Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0.0.0 Safari/537.36"),
    # Safari (macOS, iOS): built from its published JA4's parts; gives Safari's JA4.
    "safari": dict(
        ciphers=["G", 0x1301, 0x1302, 0x1303, 0xC02C, 0xC02B, 0xCCA9, 0xC030, 0xC02F, 0xCCA8,
                 0xC00A, 0xC009, 0xC014, 0xC013, 0x009D, 0x009C, 0x0035, 0x002F, 0xC008,
                 0xC012, 0x000A],
        exts=["G", 0x0000, 0x0017, 0xFF01, 0x000A, 0x000B, 0x0010, 0x0005, 0x000D, 0x0012,
              0x0033, 0x002D, 0x002B, 0x001B, "G", 0x0015],
        alpn=[b"h2", b"http/1.1"], groups=["G", 0x001D, 0x0017, 0x0018, 0x0019],
        sigs=[0x0403, 0x0804, 0x0401, 0x0503, 0x0203, 0x0805, 0x0805, 0x0501, 0x0806, 0x0601,
              0x0201], shares=["G", 0x001D], shuffle=False, pad=True,
        versions=["G", 0x0304, 0x0303, 0x0302, 0x0301],
        ua="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like "
           "Gecko) Version/18.1 Safari/605.1.15"),
    # An OkHttp-based client in Android emulators (a farm's second stack).
    "okhttp": dict(
        ciphers=["G", 0x1301, 0x1302, 0x1303, 0xC02B, 0xC02C, 0xCCA9, 0xC02F, 0xC030, 0xCCA8,
                 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
        exts=["G", 0xFF01, 0x0000, 0x0017, 0x0023, 0x000D, 0x0005, 0x0010, 0x000B, 0x0033,
              0x002D, 0x002B, 0x000A, "G", 0x0015],
        alpn=[b"h2", b"http/1.1"], groups=["G", 0x001D, 0x0017, 0x0018],
        sigs=SIG_COMMON, shares=["G", 0x001D], shuffle=False, pad=True,
        versions=["G", 0x0304, 0x0303], ua="example-android/4.12.0 okhttp/4.12.0"),
    # Automation stacks (farms): Python with a custom OpenSSL cipher string, httpx flavour...
    "py_custom": dict(
        ciphers=[0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8,
                 0x009F, 0x009E, 0xCCAA, 0xC0AF, 0xC0AD, 0xC0AE, 0xC0AC, 0xC024, 0xC028,
                 0xC023, 0xC027, 0x006B, 0x0067, 0xC00A, 0xC014, 0xC009, 0xC013, 0x0039,
                 0x0033, 0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F, 0x00FF],
        exts=[0x0000, 0x000B, 0x000A, 0x0023, 0x0010, 0x0016, 0x0017, 0x0031, 0x000D, 0x002B,
              0x002D, 0x0033],
        alpn=[b"http/1.1"], groups=[0x001D, 0x0017, 0x001E, 0x0019, 0x0018, 0x0100, 0x0101,
                                    0x0102, 0x0103, 0x0104],
        sigs=SIG_OPENSSL, shares=[0x001D], shuffle=False, pad=False,
        versions=[0x0304, 0x0303], ua="example-python/1.54.0 httpx/0.27.2"),
    # ... and requests flavour (urllib3 1.26, no ALPN).
    "py_requests_custom": dict(
        ciphers=[0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8,
                 0x009F, 0x009E, 0xCCAA, 0xC0AF, 0xC0AD, 0xC0AE, 0xC0AC, 0xC024, 0xC028,
                 0xC023, 0xC027, 0x006B, 0x0067, 0xC00A, 0xC014, 0xC009, 0xC013, 0x0039,
                 0x0033, 0x009D, 0x009C, 0x003D, 0x003C, 0x0035, 0x002F, 0x00FF],
        exts=[0x0000, 0x000B, 0x000A, 0x0023, 0x0016, 0x0017, 0x0031, 0x000D, 0x002B, 0x002D,
              0x0033],
        alpn=[], groups=[0x001D, 0x0017, 0x001E, 0x0019, 0x0018],
        sigs=SIG_OPENSSL, shares=[0x001D], shuffle=False, pad=False,
        versions=[0x0304, 0x0303], ua="python-requests/2.31.0"),
    # Node with its own cipher list (undici configured by the farm's tooling).
    "node_custom": dict(
        ciphers=[0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
                 0xC009, 0xC013, 0xC00A, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035, 0x009E,
                 0x0067, 0x0039, 0x006B],
        exts=[0x0000, 0x000B, 0x000A, 0x0023, 0x0010, 0x0016, 0x0017, 0x000D, 0x002B, 0x002D,
              0x0033],
        alpn=[b"http/1.1"], groups=[0x001D, 0x0017, 0x001E, 0x0019, 0x0018],
        sigs=SIG_OPENSSL, shares=[0x001D], shuffle=False, pad=False,
        versions=[0x0304, 0x0303], ua="example-node/4.73.0 undici"),
    # Go with a custom tls.Config (curves, ciphers), HTTP/2.
    "go_custom": dict(
        ciphers=[0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC009, 0xC013, 0xC00A,
                 0xC014, 0x009C, 0x009D, 0x002F, 0x0035, 0xC012, 0x000A, 0x1301, 0x1302,
                 0x1303],
        exts=[0x0000, 0x0005, 0x000A, 0x000B, 0x000D, 0xFF01, 0x0012, 0x0010, 0x002B, 0x0033,
              0x002D, 0x0017, 0x0023],
        alpn=[b"h2", b"http/1.1"], groups=[0x001D, 0x0017, 0x0018, 0x0019],
        sigs=SIG_GO, shares=[0x001D], shuffle=False, pad=False,
        versions=[0x0304, 0x0303], ua="Go-http-client/2.0"),
    # Rust reqwest on rustls with the farm's own cipher and group choice (farm_foxtrot).
    "rust_custom": dict(
        ciphers=[0x1302, 0x1301, 0x1303, 0xC02C, 0xC02B, 0xCCA9, 0xC030, 0xC02F, 0xCCA8,
                 0x00FF],
        exts=[0x0000, 0x0005, 0x000A, 0x000B, 0x000D, 0x0017, 0x0010, 0x002B, 0x002D, 0x0033,
              0x0023],
        alpn=[b"h2", b"http/1.1"], groups=[0x001D, 0x0017, 0x0018],
        sigs=[0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601],
        shares=[0x001D], shuffle=False, pad=False, versions=[0x0304, 0x0303],
        ua="example-rs/0.9.1 reqwest/0.12.9"),
    # PHP (Guzzle on libcurl) with a hardened cipher list, on the farm's VPSes (farm_golf).
    "php_custom": dict(
        ciphers=[0x1302, 0x1303, 0x1301, 0xC02F, 0xC030, 0xC02B, 0xC02C, 0xCCA8, 0xCCA9,
                 0x009E, 0x009F],
        exts=[0x0000, 0x000B, 0x000A, 0x0023, 0x0010, 0x0016, 0x0017, 0x000D, 0x002B, 0x002D,
              0x0033],
        alpn=[b"http/1.1"], groups=[0x001D, 0x0017, 0x0018],
        sigs=SIG_OPENSSL, shares=[0x001D], shuffle=False, pad=False,
        versions=[0x0304, 0x0303], ua="GuzzleHttp/7 curl/7.81.0 PHP/8.1.2"),
    # A third-party desktop client (Qt on OpenSSL) some real users run: uncommon, not a farm.
    "niche_app": dict(
        ciphers=[0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
                 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035],
        exts=[0x0000, 0x000B, 0x000A, 0x0023, 0x0010, 0x0016, 0x0017, 0x000D, 0x002B, 0x002D,
              0x0033, 0x0015],
        alpn=[b"h2", b"http/1.1"], groups=[0x001D, 0x0017, 0x0018, 0x0019],
        sigs=SIG_OPENSSL, shares=[0x001D], shuffle=False, pad=True,
        versions=[0x0304, 0x0303], ua="ExampleDesk/3.2.1 (Qt 6.5)"),
    "curl": dict(
        ciphers=[0x1302, 0x1303, 0x1301, 0xC02C, 0xC030, 0x009F, 0xCCA9, 0xCCA8, 0xCCAA,
                 0xC02B, 0xC02F, 0x009E, 0xC024, 0xC028, 0x006B, 0xC023, 0xC027, 0x0067,
                 0xC00A, 0xC014, 0x0039, 0xC009, 0xC013, 0x0033, 0x009D, 0x009C, 0x003D,
                 0x003C, 0x0035, 0x002F, 0x00FF],
        exts=[0x0000, 0x000B, 0x000A, 0x0023, 0x0010, 0x0016, 0x0017, 0x0031, 0x000D, 0x002B,
              0x002D, 0x0033, 0x0015],
        alpn=[b"h2", b"http/1.1"], groups=[0x001D, 0x0017, 0x001E, 0x0019, 0x0018],
        sigs=SIG_OPENSSL, shares=[0x001D], shuffle=False, pad=True,
        versions=[0x0304, 0x0303], ua="curl/8.5.0"),
}

# SYN of each OS: (initial TTL, window, options as (kind, ...) in order).
OSES = {
    "windows": (128, 64240, ["mss", "nop", "ws8", "nop", "nop", "sok"]),
    "linux": (64, 64240, ["mss", "sok", "ts", "nop", "ws7"]),
    "macos": (64, 65535, ["mss", "nop", "ws6", "nop", "nop", "ts", "sok", "eol"]),
    "ios": (64, 65535, ["mss", "nop", "ws6", "nop", "nop", "ts", "sok", "eol"]),
    "android": (64, 65535, ["mss", "sok", "ts", "nop", "ws9"]),
    "router": (64, 5840, ["mss", "sok", "ts", "nop", "ws2"]),  # residential proxy exits
}


def tcp_options(os_name, mss, rnd):
    out = bytearray()
    for o in OSES[os_name][2]:
        if o == "mss":
            out += struct.pack("!BBH", 2, 4, mss)
        elif o == "sok":
            out += b"\x04\x02"
        elif o == "ts":
            out += struct.pack("!BBII", 8, 10, rnd.getrandbits(32), 0)
        elif o == "nop":
            out += b"\x01"
        elif o == "eol":
            out += b"\x00"
        elif o.startswith("ws"):
            out += struct.pack("!BBB", 3, 3, int(o[2:]))
    while len(out) % 4:
        out += b"\x00"
    return bytes(out)



# Real ClientHellos (bytes as captured) for the stacks ordinary people use, so their JA4 is the
# one the world sees (and the default pack's popular lists name): (capture, tcp.stream, the JA4
# it must give). Per connection only the random and the session id change.
LAB = os.path.join(REPO, "tests", "data", "lab", "lab.pcap")
FOXIO = os.path.join(SHARED, "conformance", "foxio", "pcap")
REAL_HELLOS = {
    "chrome": (os.path.join(FOXIO, "browsers-x509.pcapng"), 0,
               "t13d1516h2_8daaf6152771_e5627efa2ab1"),
    "chrome_b": (os.path.join(FOXIO, "latest.pcapng"), 5,
                 "t13d1516h2_8daaf6152771_9b887d9acb53"),
    "chromium": (LAB, 10, "t13d1517h2_8daaf6152771_cb7bf5808d99"),  # 2 KB: two segments
    "wininet": (os.path.join(FOXIO, "latest.pcapng"), 3, "t12d190800_d83cc789557e_7af1ed941c26"),
    "python_sdk": (LAB, 6, "t13d1812h1_85036bcba153_d41ae481755e"),
    "node_sdk": (LAB, 7, "t13d591000_a33745022dd6_1f22a2ca17c4"),
    "curl": (LAB, 0, "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6"),
    "java_sdk": (LAB, 9, "t13d3713h2_db35923f8641_7c76daad20ec"),
}
UA = {"chrome": STACKS["chrome"]["ua"], "chrome_b": STACKS["chrome"]["ua"], "chromium": STACKS["chrome"]["ua"],
      "wininet": "Microsoft-WinINet/10.0", "python_sdk": "example-python/1.54.0",
      "node_sdk": "example-node/4.73.0", "curl": "curl/7.88.1", "java_sdk": "example-java/2.3.0"}


def tshark_client_hello(pcap, stream):
    """The first ClientHello of a TCP stream, reassembled from its client's segments."""
    cmd = ["tshark", "-n", "-r", pcap, "-Y", "tcp.stream == %d and tcp.len > 0" % stream,
           "-T", "fields", "-e", "tcp.dstport", "-e", "tcp.seq_raw", "-e", "tcp.payload"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("make_scenario: tshark on %s: %s" % (pcap, e))
    segs, first_port = [], None
    for line in out.splitlines():
        port, seq, payload = (line.split("\t") + ["", "", ""])[:3]
        if not payload:
            continue
        if first_port is None:
            first_port = port  # the client speaks first
        if port == first_port:
            segs.append((int(seq), bytes.fromhex(payload.replace(":", ""))))
    data = bytearray()
    base = min(s for s, _ in segs)
    for seq, d in sorted(segs):
        off = seq - base
        if off + len(d) > len(data) and off <= len(data):
            data += d[len(data) - off:]
    # Whole records up to the end of the ClientHello message.
    pos, need, have = 0, None, 0
    while pos + 5 <= len(data):
        rlen = struct.unpack_from("!H", data, pos + 3)[0]
        body = data[pos + 5:pos + 5 + rlen]
        if need is None:
            need = 4 + int.from_bytes(body[1:4], "big")
        have += rlen
        pos += 5 + rlen
        if have >= need:
            return bytes(data[:pos])
    sys.exit("make_scenario: no whole ClientHello in %s stream %d" % (pcap, stream))


def ja4(hello):
    """JA4 of a ClientHello record (FoxIO's method): checks that each stack is what it says."""
    body = hello[5:]
    legacy = struct.unpack_from("!H", body, 4)[0]
    p = 4 + 2 + 32
    p += 1 + body[p]
    n = struct.unpack_from("!H", body, p)[0]
    ciphers = [struct.unpack_from("!H", body, p + 2 + i)[0] for i in range(0, n, 2)]
    p += 2 + n
    p += 1 + body[p]
    end = p + 2 + struct.unpack_from("!H", body, p)[0]
    p += 2
    exts, sigs, alpn, versions, sni = [], [], b"", [], False
    while p + 4 <= end:
        t, ln = struct.unpack_from("!HH", body, p)
        d = body[p + 4:p + 4 + ln]
        exts.append(t)
        if t == 0x0000:
            sni = True
        elif t == 0x0010 and len(d) > 3:
            alpn = d[3:3 + d[2]]
        elif t == 0x000D:
            sigs = [struct.unpack_from("!H", d, 2 + i)[0] for i in range(0, d[0] << 8 | d[1], 2)]
        elif t == 0x002B:
            versions = [struct.unpack_from("!H", d, 1 + i)[0] for i in range(0, d[0], 2)]
        p += 4 + ln
    grease = lambda v: (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)  # noqa: E731
    ciphers = [c for c in ciphers if not grease(c)]
    exts = [e for e in exts if not grease(e)]
    sigs = [x for x in sigs if not grease(x)]  # Chromium 156 puts GREASE there too
    v = max([x for x in versions if not grease(x)] or [legacy])
    ver = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10"}.get(v, "00")
    a = (chr(alpn[0]) + chr(alpn[-1])) if alpn else "00"
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12] if s else "000000000000"  # noqa
    cs = ",".join("%04x" % c for c in sorted(ciphers))
    es = ",".join("%04x" % e for e in sorted(exts) if e not in (0x0000, 0x0010))
    if sigs:
        es += "_" + ",".join("%04x" % x for x in sigs)
    return "t%s%s%02d%02d%s_%s_%s" % (ver, "d" if sni else "i", min(len(ciphers), 99),
                                    min(len(exts), 99), a, h(cs), h(es))


_real_cache = {}


def real_hello(stack, rnd):
    if stack not in _real_cache:
        pcap, stream, want = REAL_HELLOS[stack]
        hello = tshark_client_hello(pcap, stream)
        got = ja4(hello)
        if got != want:
            sys.exit("make_scenario: %s stream %d gives %s, not %s" % (pcap, stream, got, want))
        _real_cache[stack] = hello
    h = bytearray(_real_cache[stack])
    h[11:43] = rnd.randbytes(32)  # record 5 + handshake 4 + version 2: the random
    sid = h[43]
    h[44:44 + sid] = rnd.randbytes(sid)
    return bytes(h)


# ------------------------------------------------------------------------------ TLS messages

def u16(v):
    return struct.pack("!H", v)


def vec16(b):
    return u16(len(b)) + b


def vec8(b):
    return bytes([len(b)]) + b


def extension_body(ext, st, grease, rnd):
    """The body of one extension as the stack sends it."""
    g = lambda v: grease if v == "G" else v  # noqa: E731
    if ext == 0x0000:
        name = b"\x00" + vec16(SNI)
        return vec16(name)
    if ext == 0x000A:
        return vec16(b"".join(u16(g(x)) for x in st["groups"]))
    if ext == 0x000B:
        return b"\x01\x00"
    if ext == 0x000D:
        return vec16(b"".join(u16(x) for x in st["sigs"]))
    if ext == 0x0010:
        return vec16(b"".join(vec8(p) for p in st["alpn"]))
    if ext == 0x002B:
        return vec8(b"".join(u16(g(x)) for x in st["versions"]))
    if ext == 0x002D:
        return b"\x01\x01"
    if ext == 0x0033:
        shares = b""
        for s in st["shares"]:
            if s == "G":
                shares += u16(grease) + vec16(b"\x00")
            elif s == 0x11EC:
                shares += u16(s) + vec16(rnd.randbytes(1216))
            elif s == 0x0017:
                shares += u16(s) + vec16(b"\x04" + rnd.randbytes(64))
            else:
                shares += u16(s) + vec16(rnd.randbytes(32))
        return vec16(shares)
    if ext == 0x0005:
        return b"\x01\x00\x00\x00\x00"
    if ext == 0x001B:
        return b"\x02\x00\x02"
    if ext == 0x001C:
        return u16(0x4001)
    if ext == 0x0022:
        return vec16(b"".join(u16(x) for x in (0x0403, 0x0503, 0x0603, 0x0203)))
    if ext == 0x44CD:
        return vec16(vec8(b"h2"))
    if ext == 0xFE0D:  # GREASE ECH: random config id, x25519 enc, random payload
        return (b"\x00" + u16(0x0001) + u16(0x0001) + bytes([rnd.getrandbits(8)]) +
                vec16(rnd.randbytes(32)) + vec16(rnd.randbytes(144)))
    if ext == 0xFF01:
        return b"\x00"
    return b""  # 0x0017, 0x0023, 0x0012, 0x0016, 0x0031, GREASE


def client_hello(stack, rnd):
    if stack in REAL_HELLOS:
        return real_hello(stack, rnd)
    st = STACKS[stack]
    grease = rnd.choice(GREASE)
    grease2 = rnd.choice([x for x in GREASE if x != grease])
    ciphers = b"".join(u16(grease if c == "G" else c) for c in st["ciphers"])
    exts = list(st["exts"])
    if st["shuffle"]:  # Chrome shuffles all but the GREASE extensions at the ends
        middle = exts[1:-1]
        rnd.shuffle(middle)
        exts = [exts[0]] + middle + [exts[-1]]
    body_exts = b""
    seen_grease = 0
    for e in exts:
        if e == 0x0015:
            continue  # padding last, sized below
        if e == "G":
            gv = grease if seen_grease == 0 else grease2
            seen_grease += 1
            body_exts += u16(gv) + vec16(b"" if seen_grease == 1 else b"\x00")
            continue
        body_exts += u16(e) + vec16(extension_body(e, st, grease, rnd))
    head = (u16(0x0303) + rnd.randbytes(32) + vec8(rnd.randbytes(32)) + vec16(ciphers) +
            b"\x01\x00")
    if 0x0015 in exts:
        # BoringSSL and OpenSSL pad a hello of 256-511 bytes up to 512.
        size = 4 + len(head) + 2 + len(body_exts)
        pad = max(0, 512 - size - 4) if 256 <= size < 512 else 0
        body_exts += u16(0x0015) + vec16(bytes(pad))
    body = head + vec16(body_exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + vec16(hs)


def server_flight(rnd, cipher=0x1301):
    exts = u16(0x002B) + vec16(u16(0x0304)) + u16(0x0033) + vec16(u16(0x001D) +
                                                                    vec16(rnd.randbytes(32)))
    body = u16(0x0303) + rnd.randbytes(32) + vec8(rnd.randbytes(32)) + u16(cipher) + b"\x00" + \
        vec16(exts)
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    sh = b"\x16\x03\x03" + vec16(hs)
    ccs = b"\x14\x03\x03\x00\x01\x01"
    app = b"\x17\x03\x03" + vec16(rnd.randbytes(rnd.randint(700, 1100)))
    return sh + ccs + app


def app_record(rnd, n):
    return b"\x17\x03\x03" + vec16(rnd.randbytes(n))


# ------------------------------------------------------------------------------ packets

def csum(data):
    if len(data) & 1:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Writer:
    """Frames of all connections, written in time order."""

    def __init__(self):
        self.frames = []  # (ts_us, seq, bytes)
        self.n = 0

    def add(self, ts_us, frame, keep=None):
        # keep: captured bytes of the frame (application data is cut after its record header
        # as a capture that keeps handshakes only would; the IP length still says the size).
        self.frames.append((ts_us, self.n, frame if keep is None else frame[:keep], len(frame)))
        self.n += 1

    def write(self, path):
        self.frames.sort(key=lambda f: (f[0], f[1]))
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            rec = struct.Struct("<IIII")
            buf = []
            for ts, _, fr, orig in self.frames:
                buf.append(rec.pack(ts // 1_000_000, ts % 1_000_000, len(fr), orig))
                buf.append(fr)
            f.write(b"".join(buf))


def tcp_frame(src, dst, sport, dport, seq, ack, flags, win, opts, payload, ttl, ident):
    doff = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      doff << 4, flags, win, 0, 0) + opts
    seg_len = len(tcp) + len(payload)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, seg_len)
        ck = csum(pseudo + tcp + payload)
        tcp = tcp[:16] + u16(ck) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + seg_len, ident & 0xFFFF, 0x4000, ttl,
                         6, 0, src, dst)
        ip = ip[:10] + u16(csum(ip)) + ip[12:]
        eth_type = 0x0800
    else:
        pseudo = src + dst + struct.pack("!IxxxB", seg_len, 6)
        ck = csum(pseudo + tcp + payload)
        tcp = tcp[:16] + u16(ck) + tcp[18:]
        ip = struct.pack("!IHBB16s16s", 0x60000000, seg_len, 6, ttl, src, dst)
        eth_type = 0x86DD
    return SERVER_MAC + CLIENT_MAC + u16(eth_type) + ip + tcp + payload


class Connection:
    """One client connection: builds its frames and its identity lines."""

    def __init__(self, w, ident_lines, rnd):
        self.w = w
        self.lines = ident_lines
        self.rnd = rnd
        self.count = 0

    def run(self, t_us, client, port, account, stack, os_name, hops, rtt_us, requests,
            gap_us, request_bytes, think_us, request_seq):
        rnd = self.rnd
        self.count += 1
        v6 = ":" in client
        src = ipaddress.ip_address(client).packed
        dst = SERVER_V6 if v6 else SERVER_V4
        c_ttl = OSES[os_name][0] - hops
        c_win = OSES[os_name][1]
        mss = 1440 if v6 else 1460
        cisn, sisn = rnd.getrandbits(32), rnd.getrandbits(32)
        ident = rnd.getrandbits(16)
        s_ident = rnd.getrandbits(16)
        c_opts = tcp_options(os_name, mss, rnd)
        s_opts = bytes.fromhex("020405b40402080a") + struct.pack("!II", rnd.getrandbits(32),
                                                                   0) + b"\x01\x03\x03\x07"

        hdr = 14 + (40 if v6 else 20) + 20

        def c(ts, seq, ack, flags, payload=b"", opts=b"", win=None, cut=False):
            nonlocal ident
            ident += 1
            self.w.add(ts, tcp_frame(src, dst, port, SERVER_PORT, seq, ack, flags,
                                     win or min(c_win, 65535), opts, payload, c_ttl, ident),
                       hdr + CUT if cut else None)

        def s(ts, seq, ack, flags, payload=b"", opts=b"", cut=False):
            nonlocal s_ident
            s_ident += 1
            self.w.add(ts, tcp_frame(dst, src, SERVER_PORT, port, seq, ack, flags, 501, opts,
                                     payload, 64, s_ident), hdr + CUT if cut else None)

        t = t_us
        c(t, cisn, 0, SYN, opts=c_opts, win=c_win)
        s(t + 40, sisn, cisn + 1, SYN | ACK, opts=s_opts)
        t += rtt_us
        cs, ss = cisn + 1, sisn + 1
        c(t, cs, ss, ACK)
        hello = client_hello(stack, rnd)
        t += 150
        for off in range(0, len(hello), mss - 12):
            part = hello[off:off + mss - 12]
            c(t, cs, ss, ACK | PSH, part)
            cs += len(part)
            t += 20
        flight = server_flight(rnd)
        t += 300
        s(t, ss, cs, ACK | PSH, flight)
        ss += len(flight)
        t += rtt_us
        finished = b"\x14\x03\x03\x00\x01\x01" + app_record(rnd, 53)
        for i in range(requests):
            req = app_record(rnd, request_bytes + rnd.randint(-40, 40))
            payload = (finished + req) if i == 0 else req
            c(t, cs, ss, ACK | PSH, payload, cut=True)
            cs += len(payload)
            request_seq[0] += 1
            self.lines.append((t, json.dumps({
                "ts": round((t + rnd.randint(-2000, 30000)) / 1e6, 6), "client_ip": client,
                "client_port": port, "account": account, "server_port": SERVER_PORT,
                "user_agent": UA.get(stack) or STACKS[stack]["ua"], "request_id": "req-%08d" % request_seq[0],
            }, separators=(",", ":"))))
            t += think_us
            resp = app_record(rnd, rnd.randint(400, 1300))
            s(t, ss, cs, ACK | PSH, resp, cut=True)
            ss += len(resp)
            t += rtt_us // 2
            c(t, cs, ss, ACK)
            if i + 1 < requests:
                t = max(t + 1000, t_us + rtt_us * 2 + 1000 + (i + 1) * gap_us)
        t += 500_000
        c(t, cs, ss, FIN | ACK)
        s(t + rtt_us // 2 + 50, ss, cs + 1, FIN | ACK)
        c(t + rtt_us + 100, cs + 1, ss + 1, ACK)
        return t + rtt_us + 100


# ------------------------------------------------------------------------------ the population

def pick(rnd, weights):
    r = rnd.random() * sum(weights.values())
    for k, v in weights.items():
        r -= v
        if r < 0:
            return k
    return k


class Addresses:
    """Client addresses and ports, never reusing an (address, port) pair."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.used_ports = {}
        self.taken24 = set()
        self.reserved_all = set()  # provider, cloud, office and carrier networks

    def port(self, ip):
        used = self.used_ports.setdefault(ip, set())
        while True:
            p = self.rnd.randint(32768, 60999)
            if p not in used:
                used.add(p)
                return p

    def reserve(self, nets):
        self.taken24.update(nets)

    def home_v4(self):
        # Consumer ISP space; a fresh /24 most of the time, as home users are.
        firsts = [24, 47, 67, 68, 71, 73, 76, 81, 82, 86, 88, 90, 92, 98, 108, 174, 188]
        while True:
            a, b, c = self.rnd.choice(firsts), self.rnd.randint(0, 255), self.rnd.randint(0,
                                                                                      255)
            net = (a, b, c)
            if net in self.taken24 and self.rnd.random() < 0.95:
                continue
            if net in self.reserved_all:
                continue
            self.taken24.add(net)
            return "%d.%d.%d.%d" % (a, b, c, self.rnd.randint(2, 254))

    def home_v6(self):
        return str(ipaddress.IPv6Address(
            (0x2A02 << 112) | (self.rnd.getrandbits(32) << 80) | self.rnd.getrandbits(64)))


def account_name(seed, group, i):
    """Opaque account ids, alike for farms and people: nothing to learn from the name."""
    return "acct_" + hashlib.sha1(("%d/%s/%d" % (seed, group, i)).encode()).hexdigest()[:12]


def nets_in(rnd, base_a, base_b_range, count):
    nets = set()
    while len(nets) < count:
        nets.add((base_a, rnd.randint(*base_b_range), rnd.randint(0, 255)))
    return sorted(nets)


def human_times(rnd, n, start_s, end_s):
    """n session starts of a person: working-hours biased, at least a minute apart."""
    out = sorted(rnd.uniform(start_s, end_s) for _ in range(n))
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + 60 + rnd.uniform(0, 600))
    return [x for x in out if x < end_s]


def build(out_dir, seed, scale):
    rnd = random.Random(seed)
    w = Writer()
    lines = []
    conn = Connection(w, lines, rnd)
    addr = Addresses(rnd)
    seq = [0]
    manifest = {"seed": seed, "scale": scale, "start": T0, "hours": HOURS, "farms": {},
                "ordinary": {}, "stacks": {},
                "found_by": {}}  # farm -> the rule kind that must find it
    S = lambda n: max(1, int(round(n * scale)))  # noqa: E731
    end_s = T0 + HOURS * 3600

    # Proxy providers' exit networks and the cloud provider's networks, kept out of home space.
    prov_a = nets_in(rnd, 45, (128, 191), 140)   # residential exits
    prov_b = nets_in(rnd, 193, (32, 47), 40)     # datacenter proxies
    prov_c = nets_in(rnd, 5, (180, 191), 20)     # another residential provider
    cloud = nets_in(rnd, 52, (0, 15), 12)
    addr.reserved_all = set(prov_a) | set(prov_b) | set(prov_c) | set(cloud)
    offices = [("%d.%d.%d.%d" % (a, b, c, rnd.randint(2, 254)))
               for (a, b, c) in nets_in(rnd, 62, (0, 255), 4)]
    carrier_nets = nets_in(rnd, 100, (64, 127), 2)  # RFC 6598 space is the carrier's inside;
    carrier = ["%d.%d.%d.%d" % (n[0], n[1], n[2], h) for n in carrier_nets for h in (17, 18)]
    for ip in offices + carrier:
        a, b, c, _ = map(int, ip.split("."))
        addr.reserved_all.add((a, b, c))

    def host_in(net):
        return "%d.%d.%d.%d" % (net[0], net[1], net[2], rnd.randint(2, 254))

    def exits(nets, oses, rtt_range):
        """A provider's exit nodes, per /24: a few hosts, each with its own OS, distance and
        latency (the TCP connection we see is the exit's; the TLS inside is the farm's)."""
        out = []
        for net in nets:
            hosts = sorted(rnd.sample(range(2, 255), rnd.randint(3, 6)))
            out.append([("%d.%d.%d.%d" % (net[0], net[1], net[2], h), rnd.choice(oses),
                         rnd.randint(8, 22), rnd.randint(*rtt_range)) for h in hosts])
        return out

    exits_a = exits(prov_a, ["router", "windows", "android"], (90_000, 260_000))
    exits_b = exits(prov_b, ["linux"], (20_000, 60_000))
    exits_c = exits(prov_c, ["router", "android"], (120_000, 300_000))

    def human_request(stack):
        return dict(requests=rnd.choice([1, 1, 2, 3]), gap_us=rnd.randint(3, 90) * 1_000_000,
                    request_bytes=rnd.randint(300, 2500),
                    think_us=rnd.randint(300_000, 8_000_000))

    # ---- farms: one orchestrator each, rounds in which every account makes a connection
    # through a random exit of its provider, two or three requests at the scheduler's pace.
    # Each on an uncommon stack: the link rule finds them (farm_echo, below, is the one it
    # cannot find).
    farms = [
        ("farm_alpha", S(400), ["py_custom", "py_requests_custom"], exits_a[:80], 600, 10),
        ("farm_bravo", S(300), ["node_custom"], exits_a[60:], 720, 10),
        ("farm_charlie", S(200), ["go_custom"], exits_b, 420, 10),
        ("farm_delta", S(150), ["py_custom", "okhttp"], exits_c, 900, 10),
    ]
    start = T0 + 3600
    for fi, (name, n, stacks, pool, period, rounds) in enumerate(farms):
        accounts = [account_name(seed, name, i) for i in range(n)]
        manifest["farms"][name] = sorted(accounts)
        manifest["stacks"][name] = stacks
        manifest["found_by"][name] = "link"
        gap = rnd.choice([2_000_000, 3_000_000, 5_000_000])
        t_round = start + fi * 97 + 5
        for r in range(rounds):
            for a in accounts:
                ip, exit_os, hops, rtt = rnd.choice(rnd.choice(pool))
                t = t_round + r * period + rnd.uniform(0, 25)
                conn.run(int(t * 1e6), ip, addr.port(ip), a, rnd.choice(stacks), exit_os, hops,
                         rtt + rnd.randint(-800, 800), rnd.choice([2, 3]),
                         gap + rnd.randint(-30_000, 30_000), 1400 + rnd.randint(-50, 50),
                         rnd.randint(800_000, 1_500_000), seq)

    def person(prefix, i):
        return account_name(seed, prefix, i)

    # ---- home users: their own address, browsers and the official SDKs.
    # Browsers and the official SDKs (the real hellos), and a synthetic Safari whose JA4 is
    # Safari's.
    home_stacks = {"chrome": 32, "chrome_b": 8, "chromium": 5, "safari": 17, "wininet": 3,
                   "python_sdk": 17, "node_sdk": 9, "java_sdk": 4, "curl": 5}
    desktop = {"windows": 6, "macos": 3, "linux": 1}
    dev = {"macos": 5, "linux": 4, "windows": 2}
    os_of = {"chrome": desktop, "chrome_b": desktop, "chromium": {"linux": 1},
             "safari": {"macos": 1}, "wininet": {"windows": 1}, "python_sdk": dev,
             "node_sdk": dev, "java_sdk": dev, "curl": {"linux": 1, "macos": 1}}
    home = []
    for i in range(S(3800)):
        a = person("h", i)
        home.append(a)
        stack = pick(rnd, home_stacks)
        osn = pick(rnd, os_of[stack])
        ip = addr.home_v6() if rnd.random() < 0.08 else addr.home_v4()
        rtt = rnd.randint(8_000, 90_000)
        hops = rnd.randint(8, 20)
        for t in human_times(rnd, rnd.choice([1, 1, 2, 2, 3]), T0, end_s):
            conn.run(int(t * 1e6), ip, addr.port(ip), a, stack, osn, hops,
                     rtt + rnd.randint(0, 4000), **human_request(stack), request_seq=seq)
    manifest["ordinary"]["home"] = sorted(home)

    # ---- offices: 50 people behind one NAT address each, working hours.
    office_stacks = {"chrome": 50, "chrome_b": 10, "safari": 16, "wininet": 4,
                     "python_sdk": 12, "node_sdk": 8}
    for oi, ip in enumerate(offices):
        people = []
        for i in range(50):
            a = person("o%d" % oi, i)
            people.append(a)
            stack = pick(rnd, office_stacks)
            osn = pick(rnd, os_of[stack])
            for t in human_times(rnd, rnd.choice([1, 2, 3]), T0 + 1800, end_s):
                conn.run(int(t * 1e6), ip, addr.port(ip), a, stack, osn, rnd.randint(9, 12),
                         rnd.randint(4_000, 12_000), **human_request(stack), request_seq=seq)
        manifest["ordinary"]["office_%d" % oi] = sorted(people)

    # ---- a mobile carrier's NAT: hundreds of phones on four addresses.
    mobiles = []
    for i in range(S(400)):
        a = person("m", i)
        mobiles.append(a)
        stack = pick(rnd, {"chrome": 55, "safari": 45})  # Chrome on Android, iOS
        osn = "ios" if stack == "safari" else "android"
        ip = rnd.choice(carrier)
        for t in human_times(rnd, rnd.choice([1, 2, 3]), T0, end_s):
            conn.run(int(t * 1e6), ip, addr.port(ip), a, stack, osn, rnd.randint(12, 18),
                     rnd.randint(35_000, 160_000), **human_request(stack), request_seq=seq)
    manifest["ordinary"]["carrier"] = sorted(mobiles)

    # ---- one legitimate account on 20 machines: laptops at home, an office, CI in the cloud.
    team = account_name(seed, "team", 0)
    for m in range(20):
        if m < 12:
            ip, osn, rtt = addr.home_v4(), rnd.choice(["macos", "linux"]), 30_000
        elif m < 15:
            ip, osn, rtt = offices[0], "macos", 8_000
        else:
            ip, osn, rtt = host_in(rnd.choice(cloud)), "linux", 2_000
        for t in human_times(rnd, 3, T0, end_s):
            conn.run(int(t * 1e6), ip, addr.port(ip), team, "python_sdk", osn,
                     rnd.randint(6, 14), rtt + rnd.randint(0, 3000),
                     **human_request("python_sdk"), request_seq=seq)
    manifest["ordinary"]["multi_machine"] = [team]

    # ---- independent customers' scheduled jobs on the cloud provider, one SDK.
    crons = []
    for i in range(30):
        a = person("c", i)
        crons.append(a)
        kind = rnd.choice(["hourly0", "hourly0", "half", "hourly15", "hourlyx"])
        minute = {"hourly0": 0, "half": 0, "hourly15": 15}.get(kind, rnd.randint(1, 59))
        period = 1800 if kind == "half" else 3600
        serverless = rnd.random() < 0.5  # a fresh function address each run, or one VM
        vm = host_in(rnd.choice(cloud))
        stack = "python_sdk" if rnd.random() < 0.8 else "node_sdk"
        t = T0 + minute * 60
        while t < end_s:
            ip = host_in(rnd.choice(cloud)) if serverless else vm
            conn.run(int((t + rnd.uniform(0.2, 3.0)) * 1e6), ip, addr.port(ip), a, stack,
                     "linux", rnd.randint(3, 6), rnd.randint(1_000, 4_000),
                     requests=rnd.choice([1, 2, 3]), gap_us=rnd.randint(1, 20) * 1_000_000,
                     request_bytes=rnd.randint(500, 3000), think_us=rnd.randint(1_000_000,
                                                                                 20_000_000),
                     request_seq=seq)
            t += period
    manifest["ordinary"]["cloud_cron"] = sorted(crons)

    # ---- farm_echo: headless Chromium (a popular stack: the link and aggregate rules ignore
    # it by design) through another residential provider's exits, each with its own OS, hop
    # count and RTT, so no network or TCP key ties its accounts together. One scheduler drives
    # them: batches of 2-12 minutes on and off over the six hours (about half the minutes on),
    # and in each minute on nearly every account makes a connection at some second of it.
    # Only that timing gives it away (lockstep_accounts): about 170 active minutes per account
    # (the rule compares accounts from 90), pairwise Jaccard about 0.9 (0.95^2 / (1 - 0.05^2))
    # where the rule asks 0.8. Every ordinary account above is active in far fewer than 90
    # minutes. Generated last, so the populations above keep their bytes.
    prov_d = nets_in(rnd, 177, (0, 63), 120)
    exits_d = exits(prov_d, ["router", "windows", "android"], (90_000, 260_000))
    echo = [account_name(seed, "farm_echo", i) for i in range(S(60))]
    manifest["farms"]["farm_echo"] = sorted(echo)
    manifest["stacks"]["farm_echo"] = ["chromium"]
    manifest["found_by"]["farm_echo"] = "synchrony"
    on_minutes, m, on = [], 0, rnd.random() < 0.5
    while m < HOURS * 60:
        run = rnd.randint(2, 12)
        if on:
            on_minutes += range(m, min(m + run, HOURS * 60))
        m, on = m + run, not on
    manifest["echo_on_minutes"] = len(on_minutes)
    gap = 4_000_000
    for m in on_minutes:
        for a in echo:
            if rnd.random() >= 0.95:
                continue  # a page that failed to load, a proxy that timed out
            ip, exit_os, hops, rtt = rnd.choice(rnd.choice(exits_d))
            # Connections start by second 57, so the handshake stays in the scheduler's minute.
            t = T0 + m * 60 + rnd.uniform(0, 57)
            conn.run(int(t * 1e6), ip, addr.port(ip), a, "chromium", exit_os, hops,
                     rtt + rnd.randint(-800, 800), rnd.randint(1, 3),
                     gap + rnd.randint(-30_000, 30_000), 1400 + rnd.randint(-50, 50),
                     rnd.randint(800_000, 1_500_000), seq)

    # ---- farm_foxtrot: 30 accounts on their own uncommon stack (Rust reqwest on rustls) for
    # 2.5 hours, each connecting every 6-14 minutes (about six times an hour) through a
    # rotating residential proxy: a fresh home device, so a fresh /24, for every connection,
    # each with its own OS, hops and RTT. Nothing but the JA4 ties one connection to another,
    # so the link rule cannot find it (exits repeat about never); proxy_rotation can: in an
    # hour, 30 accounts from about 180 /24s, 6 networks per account where the rule asks 3.
    # 30 < 40 accounts, so not a new_account_burst either. Generated after farm_echo, so
    # everything above keeps its bytes.
    fox = [account_name(seed, "farm_foxtrot", i) for i in range(S(30))]
    manifest["farms"]["farm_foxtrot"] = sorted(fox)
    manifest["stacks"]["farm_foxtrot"] = ["rust_custom"]
    manifest["found_by"]["farm_foxtrot"] = "aggregate"
    fox_start, fox_end = T0 + 2 * 3600, T0 + 2 * 3600 + 9000
    for a in fox:
        t = fox_start + rnd.uniform(0, 600)
        while t < fox_end:
            ip = addr.home_v4()
            conn.run(int(t * 1e6), ip, addr.port(ip), a, "rust_custom",
                     rnd.choice(["router", "windows", "android"]), rnd.randint(8, 22),
                     rnd.randint(90_000, 260_000), rnd.choice([1, 2]),
                     rnd.randint(1_000_000, 4_000_000), 1400 + rnd.randint(-50, 50),
                     rnd.randint(800_000, 1_500_000), seq)
            t += rnd.uniform(360, 840)

    # ---- farm_golf: 120 accounts on one uncommon stack (PHP Guzzle on libcurl with its own
    # cipher list) from the operator's six VPSes in three /24s of one hosting provider (Linux,
    # 10-14 hops, 15-40 ms). Four rounds 45 minutes apart; each round the orchestrator hands
    # every account to a random VPS. shared_uncommon_stack: 120 accounts from 3 networks (it
    # asks 100, and 10 per network). The link rule finds it too, rightly: every VPS is one key
    # (stack, /24, TCP signature, RTT bucket) of about 60 accounts (below the 500 at which a
    # key stops linking), and accounts moving between VPSes join the keys into one cluster.
    # Each round is also a new_account_burst (120 accounts within a minute).
    golf = [account_name(seed, "farm_golf", i) for i in range(S(120))]
    manifest["farms"]["farm_golf"] = sorted(golf)
    manifest["stacks"]["farm_golf"] = ["php_custom"]
    manifest["found_by"]["farm_golf"] = "link"
    vps = [(host_in(net), rnd.randint(10, 14), rnd.randint(15_000, 40_000))
           for net in nets_in(rnd, 141, (94, 95), 3) for _ in range(2)]
    for r in range(4):
        t_round = T0 + 5400 + r * 2700
        for a in golf:
            ip, hops, rtt = rnd.choice(vps)
            conn.run(int((t_round + rnd.uniform(0, 40)) * 1e6), ip, addr.port(ip), a,
                     "php_custom", "linux", hops, rtt + rnd.randint(-800, 800),
                     rnd.choice([2, 3]), rnd.randint(1_500_000, 2_500_000),
                     1200 + rnd.randint(-50, 50), rnd.randint(500_000, 1_000_000), seq)

    # ---- niche users: 80 people on a third-party desktop client (an uncommon stack, like
    # the farms'), each from home (own /24 or /48) and a third of them also from a second
    # network (office, phone), 1-3 sessions over the six hours. On an uncommon stack they
    # pass every farm rule's condition; the thresholds must keep them out: about 1.3
    # networks per account (proxy_rotation asks 3 per account per hour), 80 accounts on
    # 100 networks (shared_uncommon_stack asks 100 accounts and 10 per network), a few per
    # 10 minutes (new_account_burst asks 40), no shared /24 (nothing to link).
    niche = []
    for i in range(S(80)):
        a = person("n", i)
        niche.append(a)
        nets = [(addr.home_v6() if rnd.random() < 0.08 else addr.home_v4(),
                 rnd.choice(["windows", "macos", "linux"]), rnd.randint(8, 20),
                 rnd.randint(8_000, 90_000))]
        if rnd.random() < 0.33:
            nets.append((addr.home_v4(), nets[0][1], rnd.randint(8, 20),
                         rnd.randint(8_000, 90_000)))
        for t in human_times(rnd, rnd.choice([1, 2, 2, 3]), T0, end_s):
            ip, osn, hops, rtt = rnd.choice(nets)
            conn.run(int(t * 1e6), ip, addr.port(ip), a, "niche_app", osn, hops,
                     rtt + rnd.randint(0, 4000), **human_request("niche_app"),
                     request_seq=seq)
    manifest["ordinary"]["niche_app"] = sorted(niche)

    # Which farms each aggregate farm rule must fire for (most accounts of its finding from
    # that farm); the test also checks that no ordinary account is in any farm rule's finding.
    manifest["aggregate_found"] = {"proxy_rotation": ["farm_foxtrot"],
                                   "shared_uncommon_stack": ["farm_golf"]}

    os.makedirs(out_dir, exist_ok=True)
    for f in ("manifest.json",):
        if os.path.exists(os.path.join(out_dir, f)):
            os.remove(os.path.join(out_dir, f))
    w.write(os.path.join(out_dir, "scenario.pcap"))
    lines.sort(key=lambda x: x[0])
    with open(os.path.join(out_dir, "identity.jsonl"), "w") as f:
        f.write("".join(l + "\n" for _, l in lines))
    manifest["connections"] = conn.count
    manifest["frames"] = len(w.frames)
    manifest["requests"] = seq[0]
    manifest["accounts"] = sum(len(v) for v in manifest["farms"].values()) + sum(
        len(v) for v in manifest["ordinary"].values())
    tmp = os.path.join(out_dir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(out_dir, "manifest.json"))
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=20250310)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiplies the farm, home and carrier populations")
    a = ap.parse_args()
    m = build(a.out_dir, a.seed, a.scale)
    print("make_scenario: %d accounts, %d requests, %d frames -> %s" % (
        m["accounts"], m["requests"], m["frames"], a.out_dir), file=sys.stderr)


if __name__ == "__main__":
    main()
