#!/usr/bin/env python3
"""Regenerates the TLS hello test data in this folder from the JA4+ reference captures.

For each connection below it writes
  NAME.client.hex  the client's TCP byte stream from its first TLS record up to the end of the
                   record(s) holding the ClientHello (a proxy preamble, e.g. HTTP CONNECT, cut)
  NAME.server.hex  the server's stream from its first TLS record up to the last byte of the
                   ServerHello (so the record that holds it is usually cut short)
and expected.tsv with the reference values: JA4 and variants from the Python reference output
(python/test/testdata/*.json), or the Rust snapshot where Python has none (https-connect.pcap),
with the specification override of ../../../../shared/tools/ja4_conformance.py applied; JA3 and
JA3 text from tshark (tls.handshake.ja3 / ja3_full); JA4S from the Python reference.

The DTLS ClientHello (dtls-udp.notest.cap frame 1, no reference values exist) is written as the
whole UDP payload, dtls_client_hello.hex; its expected values come from tshark's fields and an
independent Python JA4 implementation below (dtls_expected), JA3 from tshark (dtls.handshake.ja3).

Usage: extract_hellos.py [SHARED_DIR]   (default: ../../../../shared, i.e. /work/shared)
"""
import hashlib, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "..", "shared")
FOXIO = os.path.join(SHARED, "conformance", "foxio")
PCAPS = os.path.join(FOXIO, "pcap")

# name, pcap, tcp.stream
CASES = [
    ("chrome_tls13", "tls-handshake.pcapng", 0),      # Chrome, TLS 1.3, GREASE
    ("hrr", "tls-handshake.pcapng", 38),              # server answers with HelloRetryRequest
    ("latest_s1", "latest.pcapng", 1),                # TLS 1.3 client, TLS 1.2 server with h2
    ("tls12_client", "latest.pcapng", 3),             # TLS 1.2 only client (no supported_versions)
    ("latest_s5", "latest.pcapng", 5),                # TLS 1.3 both ways, pre_shared_key
    ("firefox_tls12pcap", "tls12.pcap", 0),           # Firefox, padding, delegated credentials
    ("non_ascii_alpn", "tls-non-ascii-alpn.pcapng", 0),  # ALPN bytes ba ad
    ("ipv6", "ipv6.pcapng", 0),                       # over IPv6, 46 ciphers
    ("https_connect", "https-connect.pcap", 0),       # no SNI, after an HTTP CONNECT
    ("tls10_no_sigalgs", "https3-301-get.pcap", 0),   # TLS 1.0, only SNI, no signature_algorithms
    ("macos", "macos_tcp_flags.pcap", 0),             # Safari: duplicate signature algorithm
    ("badcurveball", "badcurveball.pcap", 0),
]

# From ja4_conformance.py SPEC_OVERRIDES: ALPN ba ad is not alphanumeric -> "bd", not "99".
ALPN_OVERRIDE = {("tls-non-ascii-alpn.pcapng", "t13d151699"): "t13d1516bd"}


def tshark(*args):
    return subprocess.run(["tshark", *args], capture_output=True, text=True, check=True).stdout


def follow(pcap, stream):
    """Client and server byte streams of one TCP stream."""
    out = tshark("-r", os.path.join(PCAPS, pcap), "-q", "-z", f"follow,tcp,raw,{stream}")
    client, server = bytearray(), bytearray()
    for line in out.splitlines():
        if not line.strip() or line.startswith(("=", "Follow", "Filter", "Node")):
            continue
        (server if line.startswith("\t") else client).extend(bytes.fromhex(line.strip()))
    return bytes(client), bytes(server)


def hello_span(data, msg_type):
    """(start, end of the message, end of its last record) of the first hello of msg_type."""
    for start in range(len(data) - 6):
        if data[start] == 22 and data[start + 1] == 3 and data[start + 5] == msg_type:
            break
    else:
        raise ValueError(f"no handshake type {msg_type}")
    pos, hs = start, bytearray()
    while True:
        rec_len = int.from_bytes(data[pos + 3:pos + 5], "big")
        payload_start = pos + 5
        hs += data[payload_start:payload_start + rec_len]
        pos = payload_start + rec_len
        if len(hs) >= 4 and len(hs) >= 4 + int.from_bytes(hs[1:4], "big"):
            msg_len = 4 + int.from_bytes(hs[1:4], "big")
            # Where the message ends in `data` (records before the last one are whole).
            msg_end = pos - (len(hs) - msg_len)
            return start, msg_end, pos


def write_hex(path, data, comment):
    with open(path, "w") as f:
        f.write(f"# {comment}\n")
        for i in range(0, len(data), 32):
            f.write(data[i:i + 32].hex() + "\n")


def py_reference(pcap, stream):
    with open(os.path.join(FOXIO, "python", "test", "testdata", pcap + ".json")) as f:
        for r in json.load(f):
            if r.get("stream") == stream:
                return r
    return {}


def rust_reference(pcap, stream):
    """ja4 and ja4s of one stream from the Rust snapshot (flat YAML, read by hand)."""
    path = os.path.join(FOXIO, "rust", "ja4", "src", "snapshots", f"ja4__insta@{pcap}.snap")
    cur, found = None, {}
    for line in open(path):
        s = line.strip()
        if s.startswith("- stream:"):
            cur = int(s.split(":")[1])
        elif cur == stream and (s.startswith("ja4:") or s.startswith("ja4s:")):
            k, v = s.split(":", 1)
            found.setdefault(k, v.strip())
    return found


def ja3_of(pcap, stream):
    out = tshark("-r", os.path.join(PCAPS, pcap), "-Y", f"tcp.stream=={stream} && tls.handshake.type==1",
                 "-T", "fields", "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3_full")
    first = out.splitlines()[0].split("\t")
    return first[0], first[1]


def override(pcap, v):
    for (p, a), b in ALPN_OVERRIDE.items():
        if p == pcap and v.startswith(a):
            return b + v[len(a):]
    return v


def grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def dtls_expected(pcap, frame):
    """JA4 (d prefix) and JA3 of a DTLS ClientHello from tshark's dissection, computed here
    independently of the C++ code."""
    fields = ["dtls.handshake.version", "dtls.handshake.ciphersuite", "dtls.handshake.extension.type",
              "dtls.handshake.sig_hash_alg", "dtls.handshake.extensions_server_name",
              "dtls.handshake.extensions_alpn_str", "dtls.handshake.extensions.supported_version",
              "dtls.handshake.ja3", "udp.payload"]
    args = ["-r", os.path.join(PCAPS, pcap), "-Y", f"frame.number=={frame}", "-T", "fields",
            "-E", "separator=|"]
    for fld in fields:
        args += ["-e", fld]
    row = dict(zip(fields, tshark(*args).strip("\n").split("|")))
    ints = lambda k: [int(x, 0) for x in row[k].split(",") if x]
    ciphers = [c for c in ints("dtls.handshake.ciphersuite") if not grease(c)]
    exts = [e for e in ints("dtls.handshake.extension.type") if not grease(e)]
    sigs = [s for s in ints("dtls.handshake.sig_hash_alg") if not grease(s)]
    versions = [v for v in ints("dtls.handshake.extensions.supported_version") if not grease(v)]
    version = max(versions) if versions else int(row["dtls.handshake.version"], 0)
    code = {0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3", 0x0303: "12", 0x0304: "13"}.get(version, "00")
    alpn = row["dtls.handshake.extensions_alpn_str"].split(",")[0]
    alpn = alpn[0] + alpn[-1] if alpn else "00"
    sni = "d" if 0 in exts else "i"
    a = f"d{code}{sni}{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{alpn}"
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12] if s else "000000000000"
    b = ",".join(f"{c:04x}" for c in sorted(ciphers))
    c = ",".join(f"{e:04x}" for e in sorted(e for e in exts if e not in (0, 0x10)))
    if sigs:
        c += "_" + ",".join(f"{s:04x}" for s in sigs)
    return f"{a}_{h(b)}_{h(c)}", f"{a}_{b}_{c}", row["dtls.handshake.ja3"], bytes.fromhex(row["udp.payload"])


def main():
    cols = ["name", "pcap", "stream", "sni", "ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full", "ja4s", "ja4s_r"]
    rows = []
    for name, pcap, stream in CASES:
        client, server = follow(pcap, stream)
        cs, _, cend = hello_span(client, 1)
        write_hex(os.path.join(HERE, f"{name}.client.hex"), client[cs:cend],
                  f"{pcap} tcp.stream {stream}: client stream from its first TLS record to the end of the ClientHello's record")
        if server:  # tls12.pcap holds the client side only
            ss, send, _ = hello_span(server, 2)
            write_hex(os.path.join(HERE, f"{name}.server.hex"), server[ss:send],
                      f"{pcap} tcp.stream {stream}: server stream from its first TLS record to the end of the ServerHello")
        py, rust = py_reference(pcap, stream), rust_reference(pcap, stream)
        ja3, ja3_full = ja3_of(pcap, stream)
        row = {"name": name, "pcap": pcap, "stream": str(stream), "sni": py.get("domain", ""),
               "ja4": py.get("JA4.1", rust.get("ja4", "")), "ja4_r": py.get("JA4_r.1", ""),
               "ja4_o": py.get("JA4_o.1", ""), "ja4_ro": py.get("JA4_ro.1", ""), "ja3": ja3,
               "ja3_full": ja3_full, "ja4s": py.get("JA4S", rust.get("ja4s", "")), "ja4s_r": py.get("JA4S_r", "")}
        for k in ("ja4", "ja4_r", "ja4_o", "ja4_ro"):
            row[k] = override(pcap, row[k])
        rows.append(row)

    ja4, ja4_r, ja3, payload = dtls_expected("dtls-udp.notest.cap", 1)
    write_hex(os.path.join(HERE, "dtls_client_hello.hex"), payload,
              "dtls-udp.notest.cap frame 1: UDP payload, one DTLS 1.0 record holding the ClientHello")
    rows.append({"name": "dtls_client_hello", "pcap": "dtls-udp.notest.cap", "stream": "0", "sni": "",
                 "ja4": ja4, "ja4_r": ja4_r, "ja4_o": "", "ja4_ro": "", "ja3": ja3, "ja3_full": "",
                 "ja4s": "", "ja4s_r": ""})

    with open(os.path.join(HERE, "expected.tsv"), "w") as f:
        f.write("# Generated by extract_hellos.py; see its docstring for where each value comes from.\n")
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join(r[c] for c in cols) + "\n")


if __name__ == "__main__":
    main()
