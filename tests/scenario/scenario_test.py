#!/usr/bin/env python3
"""The farm scenario end to end: `sybilwatch replay` of make_scenario.py's capture and identity
feed through a rule pack must find every farm as its own cluster and no ordinary account.

usage: scenario_test.py SYBILWATCH CACHE_DIR [--rules PATH]... [--seed N]

CACHE_DIR keeps the generated scenario, keyed by the generator's bytes and the seed, so reruns
only replay. Without --rules the replay runs the built-in pack.

Checks (the issue's acceptance):
  1. every farm is found as its own cluster: some link or synchrony finding holds at least 95%
     of the farm's accounts and no account of another farm;
  2. no ordinary account is in any farm-linking finding (every link or synchrony finding);
  3. the join worked: nearly every connection carried its account (else 1 and 2 say little).
Prints every finding's rule, size and make-up either way, so a failure says which rule did
what.
"""
import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "make_scenario.py")
COVERAGE = 0.95
CLUSTER_KINDS = ("link", "synchrony")


def fail(msg):
    print("scenario_test: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def scenario(cache, seed):
    with open(GENERATOR, "rb") as f:
        key = hashlib.sha256(f.read() + str(seed).encode()).hexdigest()[:16]
    d = os.path.join(cache, "scenario-" + key)
    if not os.path.exists(os.path.join(d, "manifest.json")):
        t = time.time()
        subprocess.run([sys.executable, GENERATOR, d, "--seed", str(seed)], check=True)
        print("scenario_test: generated %s in %.1f s" % (d, time.time() - t))
    with open(os.path.join(d, "manifest.json")) as f:
        return d, json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sybilwatch")
    ap.add_argument("cache")
    ap.add_argument("--rules", action="append", default=[])
    ap.add_argument("--seed", type=int, default=20250310)
    a = ap.parse_args()

    d, m = scenario(a.cache, a.seed)
    farm_of = {acct: f for f, accts in m["farms"].items() for acct in accts}
    group_of = {acct: g for g, accts in m["ordinary"].items() for acct in accts}

    alerts = os.path.join(d, "findings.jsonl")
    cmd = [a.sybilwatch, "replay", "--pcap", os.path.join(d, "scenario.pcap"), "--identity",
           os.path.join(d, "identity.jsonl"), "--alerts", alerts, "--stats"]
    for r in a.rules:
        cmd += ["--rules", r]
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    took = time.time() - t
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        fail("replay exited %d" % p.returncode)
    print("scenario_test: replay of %d connections took %.1f s" % (m["connections"], took))

    stats = dict(kv.split("=") for line in p.stderr.splitlines()
                 if line.startswith("replay:") for kv in line.split()[1:])
    attributed, observations = int(stats["attributed"]), int(stats["observations"])
    if observations < m["connections"] or attributed < 0.99 * m["connections"]:
        fail("%d of %d connections observed, %d attributed" % (observations, m["connections"],
                                                              attributed))

    # Each finding with every account any of its revisions listed (creates and updates list
    # them; a close only says that it ended).
    latest, members = {}, collections.defaultdict(set)
    with open(alerts) as f:
        for line in f:
            j = json.loads(line)
            latest[j["finding_id"]] = j
            if j["activity"] != "close":
                members[j["finding_id"]].update(j["accounts"])
                # Aggregates past their exact limit estimate; clusters must list everyone.
                if j.get("accounts_truncated") and j.get("kind") in CLUSTER_KINDS:
                    fail("finding %s lists only part of its accounts" % j["finding_id"])
    findings = sorted(latest.values(), key=lambda j: (j["rule"], -len(members[j["finding_id"]])))

    errors = []
    found = {}
    print("scenario_test: %d findings" % len(findings))
    for j in findings:
        accts = members[j["finding_id"]]
        farms = collections.Counter(farm_of[x] for x in accts if x in farm_of)
        ordinary = collections.Counter(group_of[x] for x in accts if x in group_of)
        print("  %-24s %-9s %-6s %5d accounts  farms=%s ordinary=%s" % (
            j["rule"], j.get("kind", "?"), j["activity"], len(accts), dict(farms),
            dict(ordinary)))
        if j.get("kind") not in CLUSTER_KINDS:
            continue
        if ordinary:
            errors.append("%s finding %s links ordinary accounts: %s" % (
                j["rule"], j["finding_id"], dict(ordinary)))
        if len(farms) == 1:
            (farm, n), = farms.items()
            found[farm] = max(found.get(farm, 0), n)

    for farm, accts in sorted(m["farms"].items()):
        share = found.get(farm, 0) / len(accts)
        print("scenario_test: %-13s %4d accounts, best single-farm cluster %5.1f%%" % (
            farm, len(accts), 100 * share))
        if share < COVERAGE:
            errors.append("%s: no link/synchrony finding holds %.0f%% of its %d accounts on "
                          "its own (best %.1f%%)" % (farm, 100 * COVERAGE, len(accts),
                                                     100 * share))
    if errors:
        fail("\n  " + "\n  ".join(errors))
    print("scenario_test: PASS")


if __name__ == "__main__":
    main()
