#!/usr/bin/env python3
"""Seeds for fuzz_engine: the first frames of some reference captures (Ethernet), in the
fuzzer's record format [selector=0][len hi][len lo][frame]. Reads classic pcap and pcapng via
tshark's conversion to pcap (tshark -F pcap)."""
import os, struct, subprocess, sys, tempfile

shared = sys.argv[1]  # ../shared/conformance/foxio/pcap
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz_engine")
for name, frames in [("tls-handshake.pcapng", 40), ("quic-tls-handshake.pcapng", 40),
                     ("https-connect.pcap", 20), ("ipv6.pcapng", 20), ("gre-erspan-vxlan.pcap", 20)]:
    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        subprocess.run(["tshark", "-r", os.path.join(shared, name), "-F", "pcap", "-w", tmp.name,
                        "-c", str(frames)], check=True, capture_output=True)
        raw = open(tmp.name, "rb").read()
    magic = raw[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", raw[20:24])[0]
    sel = {1: 0, 101: 1, 113: 2, 276: 3, 0: 4}.get(linktype, 0)
    pos, seed = 24, bytearray()
    while pos + 16 <= len(raw):
        _, _, caplen, _ = struct.unpack(endian + "IIII", raw[pos:pos + 16])
        frame = raw[pos + 16:pos + 16 + caplen][:65535]
        seed += bytes([sel]) + struct.pack(">H", len(frame)) + frame
        pos += 16 + caplen
    open(os.path.join(out, name.split(".")[0]), "wb").write(seed)
    print(name, len(seed))
