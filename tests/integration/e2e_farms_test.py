#!/usr/bin/env python3
"""End to end: account farms among ordinary users, live through eBPF and offline through replay.

The farm lab (tests/lab/farm_lab.py, scenario tests/lab/scenario.py: five farms on automation
kits, two of them sharing one kit; ordinary users on popular stacks, behind one office NAT, one
account on several machines, and users of a niche app whose stack is uncommon) drives real TLS
clients at the gateway lab's nginx. sybilwatchd runs in the gateway namespace with eBPF on its
veth, the default rule pack from the repository's rules/ (rules.catch_up 10s), a syslog sink to
the lab's rsyslog receiver, and tcpdump records the same veth. After the traffic the daemon is
stopped with SIGTERM. Checked:

  1. every farm is found by linked_account_cluster as its own cluster (the last revision of its
     finding_id) with >= 95% of its accounts and no account of another farm or ordinary user;
  2. no ordinary account is in any revision of any finding tagged `farm`, and the niche app's
     users were seen with their uncommon JA4 (they are spared because nothing links them, not
     because their stack is popular);
  3. rsyslog received every (finding_id, revision) the daemon emitted before it was stopped;
  4. no unexplained drops: the ring buffer, the kernel flow map, reassembly, the flow table,
     the joiner's tables and the sinks dropped nothing; every connection in the capture was
     observed; connections passed on without an account are exactly those the gateway logged no
     authenticated request for (a browser's spare connection);
  5. `sybilwatch replay` of the capture with nginx's attribution log and the same rules gives
     the same link clusters (the same account sets).

usage: e2e_farms_test.py SYBILWATCHD SYBILWATCH [--duration S] [--scale F] [--keep DIR]
(root; 77 = skip, a failure under CI=true)
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))
import swlab  # noqa: E402
from farm_lab import FarmLab  # noqa: E402
from scenario import default_scenario, popular_ja4s  # noqa: E402

NAME = "e2e_farms_test"
RULES = os.path.join(REPO, "rules")
LINK_RULE = "linked_account_cluster"
MIN_SHARE = 0.95
CATCH_UP_S = 10
RFC5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) (.*)$")

# Metrics that must be zero, and why each can only be non-zero through a loss.
MUST_BE_ZERO = {
    "sybilwatch_capture_packet_drops_total{source=ebpf}": "ring buffer full: packet events lost",
    "sybilwatch_capture_flow_end_drops_total{source=ebpf}": "ring buffer full: flow ends lost",
    "sybilwatch_capture_insert_failures_total{source=ebpf}": "kernel flow map refused a flow",
    "sybilwatch_capture_evictions_total{source=ebpf}": "kernel flow map full",
    "sybilwatch_capture_hello_lost_flows_total{source=ebpf}": "a ClientHello never reached us",
    "sybilwatch_capture_truncated_total{source=ebpf}": "packet events cut",
    "sybilwatch_capture_malformed_events_total{source=ebpf}": "events userspace could not read",
    "sybilwatch_capture_nonlinear_total{source=ebpf}": "packets whose headers BPF could not read",
    "sybilwatch_packet_errors_total": "packet events that did not decode",
    "sybilwatch_flows_evicted_total": "userspace flow table full",
    "sybilwatch_reassembly_no_memory_total": "hello reassembly out of buffers",
    "sybilwatch_hello_errors_total": "hellos that did not parse",
    "sybilwatch_attribution_outcomes_total{outcome=evicted}": "pending records dropped",
    "sybilwatch_attribution_outcomes_total{outcome=expired}": "records that found no connection",
    "sybilwatch_attribution_outcomes_total{outcome=late}": "records after their connection left",
    "sybilwatch_attribution_outcomes_total{outcome=conflict}": "two accounts on one connection",
    "sybilwatch_attribution_outcomes_total{outcome=stale}": "records too old on arrival",
    "sybilwatch_rules_accounts_refused_total": "accounts the rules engine could not track",
    "sybilwatch_sink_dropped_total{sink=siem}": "findings the SIEM sink dropped",
}


def fail(msg):
    swlab.fail(NAME, msg)


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def last_revisions(findings):
    """finding_id -> the finding's highest revision."""
    last = {}
    for f in findings:
        cur = last.get(f["finding_id"])
        if cur is None or f["revision"] >= cur["revision"]:
            last[f["finding_id"]] = f
    return last


def link_clusters(findings):
    """finding_id -> frozenset(accounts) of the last revision of each link-rule finding that
    is not closed."""
    out = {}
    for fid, f in last_revisions(findings).items():
        if f["rule"] == LINK_RULE and f.get("activity") != "close":
            if f.get("accounts_truncated"):
                fail("finding %s lists only part of its accounts" % fid)
            out[fid] = frozenset(f["accounts"])
    return out


def match_farms(truth, clusters):
    """farm -> (finding_id, found accounts, foreign accounts) of the cluster holding most of it."""
    owner = {a: farm for farm, accts in truth["farms"].items() for a in accts}
    result = {}
    for farm, accts in truth["farms"].items():
        best = max(clusters.items(), key=lambda kv: len(kv[1] & set(accts)), default=None)
        if best is None or not best[1] & set(accts):
            result[farm] = (None, set(), set())
            continue
        fid, members = best
        foreign = {a for a in members if owner.get(a) != farm}
        result[farm] = (fid, members & set(accts), foreign)
    return result


def rsyslog_findings(path):
    """The findings rsyslog received (RFC 5424 frames with JSON payloads)."""
    got = []
    if not os.path.exists(path):
        return got
    with open(path, errors="replace") as f:
        for line in f:
            m = RFC5424.match(line.rstrip("\n"))
            if not m:
                fail("rsyslog got a message that is not RFC 5424: %r" % line[:200])
            if m.group(4) != "sybilwatchd" or m.group(6) != "finding":
                fail("rsyslog got APP-NAME/MSGID %s/%s" % (m.group(4), m.group(6)))
            got.append(json.loads(m.group(8)))
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sybilwatchd")
    ap.add_argument("sybilwatch")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of traffic")
    ap.add_argument("--scale", type=float, default=1.0, help="accounts per group, scaled")
    ap.add_argument("--keep", help="copy the capture, logs and findings here")
    args = ap.parse_args()
    sybilwatchd, sybilwatch = map(os.path.abspath, (args.sybilwatchd, args.sybilwatch))
    swlab.require_root_and_tools(NAME, ("ip", "ethtool", "nginx", "openssl", "curl", "tcpdump",
                                        "node", "chromium", swlab.RSYSLOGD))
    swlab.install_signal_exits()
    t_start = time.time()

    with tempfile.TemporaryDirectory(prefix="sw-e2e-farms.") as tmp:
        try:
            run(tmp, sybilwatchd, sybilwatch, args, t_start)
        finally:
            if args.keep:
                shutil.rmtree(args.keep, ignore_errors=True)
                shutil.copytree(tmp, args.keep, ignore=shutil.ignore_patterns("*.sock"),
                                symlinks=True, ignore_dangling_symlinks=True)
    return 0


def run(tmp, sybilwatchd, sybilwatch, args, t_start):
    scenario = default_scenario(args.scale)
    with FarmLab(os.path.join(tmp, "lab"), scenario=scenario) as lab:
        truth = lab.truth
        port, received = lab.start_rsyslog()
        extra = ("rules:\n  paths: [%s]\n  catch_up: %ds\n"
                 "sinks:\n  - name: siem\n    type: syslog\n    format: json\n"
                 "    address: 127.0.0.1:%d\n    protocol: tcp\n" % (RULES, CATCH_UP_S, port))
        d = lab.start_daemon(sybilwatchd, extra)
        # Every observation as the daemon published it, to explain the unattributed ones.
        ring_path = os.path.join(tmp, "ring.jsonl")
        ring_out = open(ring_path, "w")
        # In the gateway namespace: a run killed with SIGKILL leaves nothing outside the lab's
        # namespaces (the next lab removes them with whatever runs inside).
        reader = subprocess.Popen(["ip", "netns", "exec", lab.gw_ns, sybilwatch, "tail",
                                   "--ring", d.ring, "--from-start", "--follow"],
                                  stdout=ring_out, stderr=subprocess.DEVNULL)
        lab.procs.append(reader)
        pcap = lab.start_capture(os.path.join(tmp, "lab.pcap"))
        print("%s: lab up in %.1fs: %d farms (%d accounts), %d ordinary accounts, %d sites; "
              "%.0fs of traffic" % (NAME, time.time() - t_start, len(truth["farms"]),
                                    sum(map(len, truth["farms"].values())),
                                    len(truth["ordinary"]), len(lab.sites), args.duration),
              flush=True)

        def progress(st):
            if int(st["elapsed"]) % 10 == 0:
                farms = sum(g["connections"] for g in st["groups"].values()
                            if g["kind"] == "farm")
                print("  %5.1fs  %5d connections (%d by farms), %d failed" %
                      (st["elapsed"], st["connections"], farms, st["failures"]), flush=True)
        lab.run_traffic(args.duration, progress=progress)
        failed = [c for c in lab.connections if not c["ok"]]
        if failed:
            fail("%d client connections failed, e.g. %s" % (len(failed), failed[:3]))
        for farm, accts in truth["farms"].items():
            used = collections.Counter(c["account"] for c in lab.connections
                                       if c["group"] == farm)
            thin = [a for a in accts if used[a] < 2]
            if thin:
                fail("the lab drove %s's accounts %s fewer than 2 times" % (farm, thin[:5]))

        # Let every connection end, wait out its join, and the clusters' catch-up.
        made = len(lab.connections)
        swlab.wait_for(NAME, lambda: d.metric("sybilwatch_observations_total") >= made and
                       d.metric("sybilwatch_attribution_waiting_observations") == 0 and
                       d.metric("sybilwatch_open_flows") == 0, 30,
                       "the daemon to observe all %d connections" % made, d.log)
        time.sleep(CATCH_UP_S + 2)
        swlab.wait_for(NAME, lambda: d.metric("sybilwatch_sink_backlog{sink=siem}") == 0, 30,
                       "the SIEM sink's backlog delivered", d.log)
        status = d.status()
        with open(os.path.join(tmp, "status.json"), "w") as f:
            json.dump(status, f, indent=1)
        t_stop_ns = time.time_ns()
        rc = d.stop()
        if rc != 0:
            fail("sybilwatchd exited %s on SIGTERM:\n%s" % (rc, d.log()[-3000:]))
        delay = lab.delay_stats()
        lab.stop_capture()
        time.sleep(0.5)  # the ring reader's last poll
        reader.send_signal(signal.SIGINT)
        reader.wait(10)
        ring_out.close()
        access_log = lab.access_log
        findings = read_jsonl(os.path.join(d.dir, "findings.jsonl"))
        sites = {s.name: s for s in lab.sites.values()}
        connections = list(lab.connections)
        group_of = {a: v["group"] for a, v in lab.accounts.items()}

    # --- 1. every farm its own cluster --------------------------------------------------------
    live = link_clusters(findings)
    live_match = match_farms(truth, live)
    problems = []
    for farm, (fid, found, foreign) in live_match.items():
        n = len(truth["farms"][farm])
        if len(found) < MIN_SHARE * n:
            problems.append("%s: %d of %d accounts in one cluster (%s)" % (farm, len(found), n,
                                                                          fid))
        if foreign:
            problems.append("%s's cluster %s holds foreign accounts %s" %
                            (farm, fid, sorted(foreign)[:5]))
    owners = collections.Counter(fid for fid, _, _ in live_match.values() if fid)
    for fid, k in owners.items():
        if k > 1:
            problems.append("one cluster %s for %d farms" % (fid, k))

    # --- 2. ordinary users spared, for the right reason ---------------------------------------
    ordinary = set(truth["ordinary"])
    for f in findings:
        if "farm" in f.get("tags", []):
            hit = ordinary & set(f.get("accounts", []))
            if hit:
                problems.append("ordinary accounts %s in %s finding %s rev %d" %
                                (sorted(hit)[:5], f["rule"], f["finding_id"], f["revision"]))
    ring = read_jsonl(ring_path)
    popular = popular_ja4s(RULES)
    niche = {a for a, g in group_of.items() if g == "niche-app"}
    niche_ja4 = {o.get("ja4") for o in ring if o.get("account") in niche}
    if not niche_ja4 or niche_ja4 & popular or None in niche_ja4:
        problems.append("the niche app's users were seen with JA4 %s: expected uncommon ones" %
                        niche_ja4)
    # The scenario's premise: each kit one uncommon JA4, farms on one kit share it, farms on
    # different kits differ, and none is the niche app's.
    farm_ja4 = {}
    kit = {g["name"]: g["stack"] for g in scenario["groups"] if g["kind"] == "farm"}
    for farm, accts in truth["farms"].items():
        farm_ja4[farm] = {o.get("ja4") for o in ring if o.get("account") in set(accts)}
        if len(farm_ja4[farm]) != 1 or farm_ja4[farm] & popular or farm_ja4[farm] & niche_ja4:
            problems.append("%s's JA4s %s: expected one, uncommon, not the niche app's" %
                            (farm, farm_ja4[farm]))
    for a in farm_ja4:
        for b in farm_ja4:
            if a < b and (kit[a] == kit[b]) != (farm_ja4[a] == farm_ja4[b]):
                problems.append("%s (%s) and %s (%s) have JA4s %s and %s" %
                                (a, kit[a], b, kit[b], farm_ja4[a], farm_ja4[b]))

    # --- 3. the SIEM got what was emitted -----------------------------------------------------
    siem = rsyslog_findings(received)
    at_siem = {(f["finding_id"], f["revision"]) for f in siem}
    before_stop = {(f["finding_id"], f["revision"]) for f in findings
                   if f["emitted_ns"] < t_stop_ns}
    missing = before_stop - at_siem
    if missing:
        problems.append("%d of %d findings emitted before SIGTERM never reached rsyslog: %s" %
                        (len(missing), len(before_stop), sorted(missing)[:3]))
    # The catch-up update (rules.catch_up) brought each farm's whole cluster to the SIEM before
    # the daemon stopped, not only to the findings file at shutdown.
    for farm, (fid, found, _) in match_farms(truth, link_clusters(siem)).items():
        if len(found) < MIN_SHARE * len(truth["farms"][farm]):
            problems.append("the SIEM's last revision of %s's cluster (%s) has %d of %d accounts"
                            % (farm, fid, len(found), len(truth["farms"][farm])))

    # --- 4. no unexplained drops --------------------------------------------------------------
    m = status["metrics"]
    for key, why in MUST_BE_ZERO.items():
        if m.get(key) != 0:
            problems.append("metric %s = %s, expected 0 (%s)" % (key, m.get(key), why))
    fp = subprocess.run([sybilwatch, "fingerprint", pcap], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    captured = [json.loads(line) for line in fp.stdout.splitlines() if line.strip()]
    if fp.returncode != 0:
        problems.append("sybilwatch fingerprint of the capture exited %d" % fp.returncode)
    # A client may reuse its address and port once the server closed first (no TIME_WAIT on
    # its side): connections are counted, not only their (address, port).
    observed = collections.Counter((o["src"], o["src_port"]) for o in ring)
    in_pcap = collections.Counter((o["src"], o["src_port"]) for o in captured)
    if in_pcap - observed or m.get("sybilwatch_observations_total") != len(captured):
        problems.append("capture has %d connections, the daemon observed %s (missing %s)" %
                        (len(captured), m.get("sybilwatch_observations_total"),
                         sorted(in_pcap - observed)[:5]))
    ended = m.get("sybilwatch_capture_flow_end_events_total{source=ebpf}")
    if ended != m.get("sybilwatch_capture_flows_created_total{source=ebpf}"):
        problems.append("the kernel opened %s flows and ended %s" %
                        (m.get("sybilwatch_capture_flows_created_total{source=ebpf}"), ended))
    authenticated = set()
    for rec in read_jsonl(access_log):
        if rec.get("account"):
            authenticated.add((rec["client_ip"], rec["client_port"]))
    unattributed = {(o["src"], o["src_port"]) for o in ring if not o.get("account")}
    unexplained = unattributed & authenticated
    if unexplained:
        problems.append("connections with an authenticated request passed on without an "
                        "account: %s" % sorted(unexplained)[:5])
    if m.get("sybilwatch_unattributed_observations_total") != len(unattributed):
        problems.append("unattributed metric %s, ring shows %d" %
                        (m.get("sybilwatch_unattributed_observations_total"),
                         len(unattributed)))

    # --- 5. offline replay of the same traffic ------------------------------------------------
    replay_out = os.path.join(tmp, "replay.jsonl")
    r = subprocess.run([sybilwatch, "replay", "--pcap", pcap, "--identity", access_log,
                        "--rules", RULES, "--alerts", replay_out, "--stats"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if r.returncode != 0:
        fail("sybilwatch replay exited %d:\n%s" % (r.returncode, r.stderr[-2000:]))
    replayed = link_clusters(read_jsonl(replay_out))
    replay_match = match_farms(truth, replayed)
    if set(live.values()) != set(replayed.values()):
        only_live = set(live.values()) - set(replayed.values())
        only_replay = set(replayed.values()) - set(live.values())
        problems.append("live and replay clusters differ: live only %s; replay only %s" %
                        ([sorted(c)[:4] + ["... %d" % len(c)] for c in only_live],
                         [sorted(c)[:4] + ["... %d" % len(c)] for c in only_replay]))

    # --- summary ------------------------------------------------------------------------------
    src_groups = collections.defaultdict(set)
    for c in connections:
        src_groups[c["src"]].add(c["group"])
    print("\n%-14s %-8s %-7s %-6s %-7s %-6s %-8s %s" % ("farm", "accounts", "live", "%",
                                                         "replay", "%", "foreign",
                                                         "client stack (JA4)"))
    for farm, accts in truth["farms"].items():
        n = len(accts)
        _, found, foreign = live_match[farm]
        _, rfound, _ = replay_match[farm]
        print("%-14s %-8d %-7d %-6s %-7d %-6s %-8d %s" % (
            farm, n, len(found), "%.0f%%" % (100.0 * len(found) / n), len(rfound),
            "%.0f%%" % (100.0 * len(rfound) / n), len(foreign),
            ",".join(sorted(j for j in farm_ja4[farm] if j))))
    by_rule = collections.Counter(f["rule"] for f in last_revisions(findings).values())
    print("\nfindings (distinct ids): %s; %d revisions; %d at rsyslog" %
          (dict(by_rule), len(findings), len(at_siem)))
    spare = collections.Counter((o.get("ja4"), "/".join(sorted(src_groups.get(o["src"], {"?"}))))
                                for o in ring if not o.get("account"))
    print("connections: %d made by the clients, %d observed; %d without an authenticated "
          "request (JA4, from: %s); %d ordinary accounts, none in a farm finding" %
          (len(connections), m.get("sybilwatch_observations_total"), len(unattributed),
           "; ".join("%s x%d from %s" % (j, k, g) for (j, g), k in spare.items()) or "-",
           len(ordinary)))
    print("delay line: %s" % json.dumps(delay))
    rep = dict(kv.split("=", 1) for kv in r.stderr.split() if "=" in kv)
    live_attr = m.get("sybilwatch_attribution_outcomes_total{outcome=matched}")
    reused = sum(1 for k in in_pcap.values() if k > 1)
    print("attribution: live %s attributed, %s not; replay %s attributed, %s not "
          "(%d client address:port pairs carried two connections)" %
          (live_attr, m.get("sybilwatch_unattributed_observations_total"),
           rep.get("attributed"), rep.get("unattributed"), reused))
    # The offline path attributes exactly what the live one did, ports reused at once included.
    if str(live_attr) != rep.get("attributed"):
        fail("replay attributed %s connections, the live daemon %s" %
             (rep.get("attributed"), live_attr))
    print("sites: %s" % ", ".join("%s(%s,%gms)" % (s.name, s.spec["tcp"], s.rtt_ms)
                                  for s in sites.values()))
    wall = time.time() - t_start
    if problems:
        fail("\n  " + "\n  ".join(problems))
    print("%s: PASS: %d farms each found whole as its own cluster, live and in replay alike; "
          "no ordinary account in a farm finding; findings at rsyslog; no drops (%.0fs)" %
          (NAME, len(truth["farms"]), wall))


if __name__ == "__main__":
    sys.exit(main())
