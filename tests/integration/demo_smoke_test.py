#!/usr/bin/env python3
"""`make demo`, shortened: tests/lab/demo.py with 30 s of traffic at a small scale, no live view.

Checked: it exits 0 and printed its summary (a row per farm, every farm found, no ordinary
account flagged); every network namespace it made is gone afterwards; its results directory
holds the findings as native JSON lines and as OCSF Detection Findings (non-empty, every line a
finding of its format, the same (finding_id, revision) pairs in both), the capture and the
attribution log, and the replay command it printed names them.

usage: demo_smoke_test.py BINDIR     (BINDIR: sybilwatchd and sybilwatch)
(root; 77 = skip, a failure under CI=true)
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import swlab  # noqa: E402

NAME = "demo_smoke_test"
DEMO = os.path.join(REPO, "tests", "lab", "demo.py")
DURATION_S = 30
SCALE = 0.4  # every farm stays at its floor of 12 accounts, above the link rule's 10
TIMEOUT_S = 240


def fail(msg, out=""):
    if out:
        print("--- demo output ---\n%s" % out[-6000:], file=sys.stderr)
    swlab.fail(NAME, msg)


def lines_of(path):
    with open(path) as f:
        return [json.loads(ln) for ln in f if ln.strip()]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bindir = os.path.abspath(sys.argv[1])
    swlab.require_root_and_tools(NAME, ("ip", "ethtool", "nginx", "openssl", "curl", "tcpdump",
                                        "node", "chromium"))
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="sw-demo-smoke.") as tmp:
        results = os.path.join(tmp, "results")
        proc = subprocess.Popen([sys.executable, DEMO, "--bin", bindir, "--duration",
                                 str(DURATION_S), "--scale", str(SCALE), "--no-live",
                                 "--results", results], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=tmp)
        try:
            out, _ = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.terminate()  # the demo removes its lab on SIGTERM
            out, _ = proc.communicate(30)
            fail("the demo did not finish in %ds" % TIMEOUT_S, out)
        wall = time.time() - t0

        # The lab's namespaces carry the demo's pid (swlab.NS_RE).
        names = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                               text=True).stdout.split()
        left = [n for n in names if (m := swlab.NS_RE.match(n)) and int(m.group(2)) == proc.pid]
        if left:
            fail("namespaces left behind: %s" % left, out)
        if proc.returncode != 0:
            fail("the demo exited %d" % proc.returncode, out)

        for stage in ("creating the lab:", "starting nginx", "starting sybilwatchd (eBPF on",
                      "traffic for 30 s", "summary", "cleaning up", "results kept in"):
            if stage not in out:
                fail("the demo never said %r" % stage, out)
        rows = re.findall(r"^\s+(\S+-farm\S*|\S+-farm)\s+(\d+)\s+(\d+)/(\d+)\s+(\d+)%",
                          out, re.M)
        if len(rows) < 5:
            fail("the summary has %d farm rows, expected 5" % len(rows), out)
        not_found = [r[0] for r in rows if int(r[2]) == 0]
        if not_found:
            fail("farms not found at all: %s" % not_found, out)
        m = re.search(r"ordinary accounts flagged: (\d+) of (\d+)", out)
        if not m or int(m.group(2)) == 0:
            fail("the summary has no count of ordinary accounts flagged", out)
        if int(m.group(1)) != 0:
            fail("ordinary accounts flagged: %s" % m.group(1), out)

        native = os.path.join(results, "findings.jsonl")
        ocsf = os.path.join(results, "findings-ocsf.jsonl")
        for p in (native, ocsf, os.path.join(results, "capture.pcap"),
                  os.path.join(results, "attribution.jsonl")):
            if not os.path.exists(p) or os.path.getsize(p) == 0:
                fail("%s is missing or empty" % os.path.relpath(p, tmp), out)
        fs = lines_of(native)
        if any("finding_id" not in f or "revision" not in f for f in fs):
            fail("findings.jsonl holds lines that are not native findings")
        events = lines_of(ocsf)
        if any(e.get("class_uid") != 2004 for e in events):
            fail("findings-ocsf.jsonl holds lines that are not OCSF Detection Findings")
        pairs_native = {"%s:%d" % (f["finding_id"], f["revision"]) for f in fs}
        pairs_ocsf = {e["metadata"]["uid"] for e in events}
        if pairs_native != pairs_ocsf:
            fail("native and OCSF findings differ: %s" % sorted(pairs_native ^ pairs_ocsf)[:5])
        if not re.search(r"sybilwatch replay --pcap \S*capture\.pcap --identity "
                         r"\S*attribution\.jsonl", out):
            fail("the demo printed no replay command", out)
    print("%s: PASS: demo ran %ds of traffic in %.0fs wall, %d farms found, no ordinary "
          "account flagged, %d findings (%d revisions) in JSON and OCSF, lab removed" %
          (NAME, DURATION_S, wall, len(rows), len({f["finding_id"] for f in fs}), len(fs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
