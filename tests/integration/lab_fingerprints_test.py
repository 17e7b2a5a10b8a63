#!/usr/bin/env python3
"""Fingerprints of real TLS clients captured in the lab (tests/integration/lab/lab.sh).

usage: lab_fingerprints_test.py --sybilwatch BIN [--capture PCAP --manifest TSV]
                                [--variants DIR] [unittest options]

Without --capture it checks the committed capture in tests/data/lab/ (no root needed);
lab_live_test.sh points it at a capture made a minute ago. Checks, per connection: the fields a
real handshake must yield, SNI/version/ALPN as the client was told to send them, JA3 against
tshark's own implementation, Chromium's multi-segment ClientHello and extension permutation,
the reassembly variants of make_variants.py, and the command's exit status on bad input.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "lab")
sys.path.insert(0, DATA)
import make_variants as pcap  # noqa: E402  (the pcap reader the variants are made with)

ARGS = None
REQUIRED = ("ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full", "ja4s", "ja4t", "tcp_sig",
            "ja4l_c", "ja4l_s")
SAME_IN_VARIANTS = ("ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full", "sni", "alpn")


def fingerprint(*paths):
    proc = subprocess.run([ARGS.sybilwatch, "fingerprint", *paths], capture_output=True,
                          text=True, timeout=120)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    return proc.returncode, lines, proc.stderr


def by_client(lines):
    return {(c["src"], c["src_port"]): c for c in lines if c.get("transport") == "tcp"}


def tshark(capture, *args):
    proc = subprocess.run(["tshark", "-r", capture, *args], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"tshark failed: {proc.stderr}")
    return [line.split("\t") for line in proc.stdout.splitlines() if line]


def tshark_has_field(name):
    out = subprocess.run(["tshark", "-G", "fields"], capture_output=True, text=True).stdout
    return any(line.split("\t")[2:3] == [name] for line in out.splitlines())


class Lab(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.manifest = pcap.read_manifest(ARGS.manifest)
        cls.rc, cls.lines, cls.stderr = fingerprint(ARGS.capture)
        cls.conns = by_client(cls.lines)
        cls.of_row = {}
        for row in cls.manifest:
            cls.of_row[row["label"]] = [
                c for c in cls.conns.values()
                if c["src"] == row["src"] and c["dst"] == row["dst"]
                and c["dst_port"] == row["dst_port"]]

    def test_capture_reads_cleanly(self):
        self.assertEqual(self.rc, 0, self.stderr)
        self.assertTrue(self.lines)

    def test_every_connection_belongs_to_a_client(self):
        labelled = {(c["src"], c["src_port"]) for conns in self.of_row.values() for c in conns}
        self.assertEqual(set(self.conns), labelled, "connections from no manifest client")

    def test_every_client_has_complete_fingerprints(self):
        for row in self.manifest:
            with self.subTest(client=row["label"]):
                conns = self.of_row[row["label"]]
                self.assertTrue(conns, f"{row['label']}: no connection in the capture")
                for c in conns:
                    missing = [f for f in REQUIRED if f not in c]
                    self.assertFalse(missing, f"{row['label']} {c['src_port']}: missing {missing}")
                    self.assertEqual(c.get("sni"), row["sni"])
                    ja4 = c["ja4"]
                    self.assertEqual(ja4[:3], row["tls"], ja4)
                    self.assertEqual(ja4[3], "i" if row["sni"] is None else "d", ja4)
                    self.assertEqual(ja4[8:10], row["alpn"], ja4)
                    self.assertEqual(c["ja4s"][:3], row["tls"], c["ja4s"])

    def test_no_sni_client(self):
        (row,) = [r for r in self.manifest if r["label"] == "openssl-nosni"]
        for c in self.of_row[row["label"]]:
            self.assertEqual(c["ja4"][3], "i")
            self.assertNotIn("sni", c)

    def test_tls_versions(self):
        seen = {row["tls"] for row in self.manifest}
        self.assertEqual(seen, {"t12", "t13"}, "the lab must exercise TLS 1.2 and 1.3 clients")

    def test_flags(self):
        for row in self.manifest:
            for c in self.of_row[row["label"]]:
                with self.subTest(client=row["label"], port=c["src_port"]):
                    if "mtu" in row["flags"]:
                        # The SYN's MSS is the MTU less 40 (IPv4) and both signatures carry it.
                        mss = int(row["flags"]["mtu"]) - 40
                        self.assertEqual(c["ja4t"].split("_")[2], str(mss), c["ja4t"])
                        self.assertIn(f":{mss}:", c["tcp_sig"])
                    if "large" in row["flags"]:
                        self.assertGreater(c["cadence"]["server_bytes"], 200 * 1024)
                    if "requests" in row["flags"]:
                        n = int(row["flags"]["requests"])
                        self.assertGreaterEqual(c["cadence"]["requests"], n)
                        self.assertGreaterEqual(c["cadence"]["responses"], n)

    def test_ja3_matches_tshark(self):
        rows = tshark(ARGS.capture, "-Y", "tls.handshake.type == 1", "-T", "fields",
                      "-E", "separator=/t", "-e", "ip.src", "-e", "ipv6.src", "-e",
                      "tcp.srcport", "-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3_full")
        theirs = {(v4 or v6, int(port)): (ja3, full) for v4, v6, port, ja3, full in rows}
        ours = {k: (c["ja3"], c["ja3_full"]) for k, c in self.conns.items() if "ja3" in c}
        self.assertEqual(set(ours), set(theirs), "connections with a ClientHello differ")
        for key in theirs:
            with self.subTest(client=key):
                self.assertEqual(ours[key], theirs[key])

    def test_ja4_matches_tshark(self):
        if not tshark_has_field("tls.handshake.ja4"):
            print("\nnote: this tshark has no tls.handshake.ja4 field (it came in Wireshark "
                  "4.2); JA4 is compared with tshark's JA3 and the reference captures only",
                  file=sys.stderr)
            self.skipTest("tshark has no tls.handshake.ja4")
        rows = tshark(ARGS.capture, "-Y", "tls.handshake.type == 1", "-T", "fields",
                      "-E", "separator=/t", "-e", "ip.src", "-e", "ipv6.src", "-e",
                      "tcp.srcport", "-e", "tls.handshake.ja4")
        for v4, v6, port, ja4 in rows:
            with self.subTest(client=(v4 or v6, port)):
                self.assertEqual(self.conns[(v4 or v6, int(port))]["ja4"], ja4)

    def test_multisegment_client_hellos(self):
        # tshark, not our reader: the first client data segment of the connection is shorter
        # than the TLS record it starts, and the reassembled hello names >= 2 segments.
        first = {}
        for v4, v6, port, stream, length in tshark(
                ARGS.capture, "-Y", "tcp.len > 0", "-T", "fields", "-E", "separator=/t",
                "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "tcp.stream",
                "-e", "tcp.len"):
            first.setdefault((v4 or v6, int(port)), int(length))
        hellos = {}
        for v4, v6, port, record_len, count in tshark(
                ARGS.capture, "-Y", "tls.handshake.type == 1", "-T", "fields", "-E",
                "separator=/t", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e",
                "tls.record.length", "-e", "tcp.segment.count"):
            hellos[(v4 or v6, int(port))] = (int(record_len.split(",")[0]), int(count or 1))
        checked = 0
        for row in self.manifest:
            if "multiseg" not in row["flags"]:
                continue
            for c in self.of_row[row["label"]]:
                key = (c["src"], c["src_port"])
                with self.subTest(client=row["label"], port=c["src_port"]):
                    record_len, count = hellos[key]
                    self.assertLess(first[key], record_len + 5)
                    self.assertGreaterEqual(count, 2)
                    checked += 1
        self.assertGreaterEqual(checked, 2)

    def test_groups_share_ja4_and_permute_extensions(self):
        groups = collections.defaultdict(list)
        for row in self.manifest:
            if "group" in row["flags"]:
                groups[row["flags"]["group"]] += self.of_row[row["label"]]
        self.assertTrue(groups)
        for name, conns in groups.items():
            with self.subTest(group=name):
                self.assertGreaterEqual(len(conns), 2)
                self.assertEqual(len({c["ja4"] for c in conns}), 1, [c["ja4"] for c in conns])
                self.assertEqual(len({c["ja4_r"] for c in conns}), 1)
                # JA3 keeps the wire order: if tshark-checked JA3s differ, the client permuted
                # its extensions, and the order-keeping ja4_o / ja4_ro must differ too.
                if len({c["ja3_full"] for c in conns}) > 1:
                    self.assertGreater(len({c["ja4_o"] for c in conns}), 1)
                    self.assertGreater(len({c["ja4_ro"] for c in conns}), 1)
                else:
                    print(f"\nnote: {name}: every connection sent the same extension order; "
                          "only the shared ja4 is checked", file=sys.stderr)

    def test_variants_fingerprint_like_the_original(self):
        index = os.path.join(ARGS.variants, "variants.tsv")
        with open(index) as f:
            variants = [line.rstrip("\n").split("\t") for line in f
                        if not line.startswith("#") and line.strip()]
        self.assertEqual(len(variants), 3)
        for name, client, port, _ in variants:
            with self.subTest(variant=name):
                path = os.path.join(ARGS.variants, name)
                self.check_variant_shape(name, path)
                rc, lines, err = fingerprint(path)
                self.assertEqual(rc, 0, err)
                self.assertEqual(len(lines), 1, lines)
                original = self.conns[(client, int(port))]
                for field in SAME_IN_VARIANTS:
                    self.assertEqual(lines[0].get(field), original.get(field), field)

    def check_variant_shape(self, name, path):
        """The variant really has the segment layout it claims (guards the generator)."""
        cap = pcap.read_pcap(path)
        ((key, indexes),) = pcap.connections(cap)
        data = [pcap.Segment(cap.records[i][3]) for i in indexes]
        client = [s for s in data if s.client_key == key and s.payload]
        # Client data before the server's first data: the ClientHello's segments.
        first_server = next(i for i, s in enumerate(data) if s.client_key != key and s.payload)
        hello = [s for s in data[:first_server] if s.client_key == key and s.payload]
        if name.startswith("chromium-swapped"):
            self.assertEqual(len(hello), 2)
            self.assertGreater(hello[0].seq, hello[1].seq)
        elif name.startswith("chromium-retrans"):
            self.assertEqual(len(hello), 4)
            self.assertEqual(hello[0].payload, hello[1].payload)
            end0 = hello[0].seq + len(hello[0].payload)
            self.assertLess(hello[2].seq, end0)
            self.assertGreater(hello[2].seq + len(hello[2].payload), end0)
        elif name.startswith("curl-8seg"):
            self.assertEqual(len(hello), 8)
            for a, b in zip(hello, hello[1:]):
                self.assertEqual(a.seq + len(a.payload), b.seq)
        else:
            self.fail(f"unknown variant {name}")
        self.assertTrue(client)


class CommandErrors(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sw-lab-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_missing_file(self):
        path = os.path.join(self.tmp, "no-such-capture.pcap")
        rc, lines, err = fingerprint(path)
        self.assertEqual(rc, 1)
        self.assertIn(path, err)
        self.assertEqual(lines, [])

    def test_not_a_capture(self):
        rc, lines, err = fingerprint(ARGS.manifest)
        self.assertEqual(rc, 1, err)
        self.assertIn(ARGS.manifest, err)
        self.assertEqual(lines, [])

    def test_missing_file_does_not_stop_the_others(self):
        rc, lines, _ = fingerprint(os.path.join(self.tmp, "missing.pcap"), ARGS.capture)
        self.assertEqual(rc, 1)
        self.assertEqual(set(by_client(lines)), set(by_client(fingerprint(ARGS.capture)[1])))

    def test_truncated_capture(self):
        _, full_lines, _ = fingerprint(ARGS.capture)
        full = by_client(full_lines)
        cap = pcap.read_pcap(ARGS.capture)
        offsets = pcap.record_offsets(ARGS.capture)
        with open(ARGS.capture, "rb") as f:
            raw = f.read()
        conns = pcap.connections(cap)
        # Cut in the middle of a packet two thirds in, and once inside a record header.
        for cut_index, inside_header in ((len(offsets) * 2 // 3, False),
                                         (len(offsets) * 5 // 6, True)):
            with self.subTest(cut_at_record=cut_index, inside_header=inside_header):
                start = offsets[cut_index]
                cut = start + 8 if inside_header else (start + offsets[cut_index + 1]) // 2 + 8
                path = os.path.join(self.tmp, "truncated.pcap")
                with open(path, "wb") as f:
                    f.write(raw[:cut])
                rc, lines, err = fingerprint(path)
                self.assertEqual(rc, 2, err)
                got = by_client(lines)
                done = [key for key, idx in conns
                        if idx[-1] < cut_index and full[key[:2]]["end"] in ("fin", "rst")]
                self.assertTrue(done)
                for key in done:
                    c = got.get(key[:2])
                    self.assertIsNotNone(c, f"{key}: completed before the cut, not printed")
                    for field in ("ja4", "ja3", "ja4s", "ja4t", "end"):
                        self.assertEqual(c.get(field), full[key[:2]].get(field), field)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sybilwatch", required=True)
    parser.add_argument("--capture", default=os.path.join(DATA, "lab.pcap"))
    parser.add_argument("--manifest")
    parser.add_argument("--variants")
    ARGS, rest = parser.parse_known_args()
    capture_dir = os.path.dirname(os.path.abspath(ARGS.capture))
    ARGS.manifest = ARGS.manifest or os.path.join(capture_dir, "lab.tsv")
    ARGS.variants = ARGS.variants or os.path.join(capture_dir, "variants")
    if shutil.which("tshark") is None:
        sys.exit("lab_fingerprints_test: tshark is not installed (make deps)")
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


if __name__ == "__main__":
    main()
