#!/usr/bin/env python3
"""Runs ../shared/tools/ja4_conformance.py against `sybilwatch fingerprint` and fails on any
difference that docs/conformance.md does not list (and on a listed one that no longer occurs,
so the list stays true).

Listed differences are the lines of docs/conformance.md that start with "    MISS " (an
indented block), exactly as the scorer prints them with -v.
"""
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "bin", "sybilwatch")
shared = os.environ.get("SW_SHARED_DIR", os.path.join(root, "..", "shared"))
scorer = os.path.join(shared, "tools", "ja4_conformance.py")

if not os.path.exists(scorer):
    msg = f"SKIP: {scorer} not found (the shared/ folder beside the checkout)"
    if os.environ.get("CI") == "true":
        print(msg.replace("SKIP", "FAIL") + ": CI must run this test")
        sys.exit(1)
    print(msg)
    sys.exit(77)

res = subprocess.run([sys.executable, scorer, "--cmd", f"{cli} fingerprint", "-v"],
                     capture_output=True, text=True, timeout=600)
print(res.stdout)
got = {l.strip() for l in res.stdout.splitlines() if l.startswith("MISS ")}
listed = set()
with open(os.path.join(root, "docs", "conformance.md")) as f:
    for line in f:
        if line.startswith("    MISS "):
            listed.add(line.strip())

unexpected = sorted(got - listed)
stale = sorted(listed - got)
for m in unexpected:
    print("UNEXPECTED", m)
for m in stale:
    print("STALE (listed in docs/conformance.md but now matches)", m)
if unexpected or stale:
    sys.exit(1)
print(f"conformance: every difference is one of the {len(listed)} listed in docs/conformance.md")
