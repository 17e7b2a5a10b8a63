#!/usr/bin/env python3
"""`make demo`: account farms found live by sybilwatchd in the farm lab.

Builds the farm lab (farm_lab.py with scenario.default_scenario: five account farms on
automation kits among ordinary users, every site in its own network namespace, nginx as the
API gateway writing the attribution log), starts sybilwatchd with eBPF on the gateway's veth
and the built-in rule pack, and drives the scenario's real TLS clients for --duration seconds.
Meanwhile it shows what a security engineer would look at: connections per group, the
daemon's counters (its control socket's status), the top client stacks with their accounts
(the daemon's shared-memory ring, through `sybilwatch tail`), and every finding as it fires
(the daemon's findings file), checked against the lab's ground truth. Then it stops the
daemon with SIGTERM (held-back cluster growth is raised then), prints a summary per farm and
removes the lab. The findings (native JSON lines and OCSF), the capture, the attribution log
and the observations stay in --results, with the command that replays them offline.

usage: demo.py [--bin DIR] [--duration S] [--scale F] [--results DIR] [--no-live]
Root (network namespaces, BPF); Python standard library only. On a terminal the live view is
redrawn every second; otherwise (or with --no-live) a status line every 5 s and a line per
finding. Exit status: 0 done; 1 sybilwatchd failed or the lab could not run; 2 bad usage;
128+N on signal N (the lab is removed all the same).
"""

import argparse
import collections
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import swlab  # noqa: E402
from farm_lab import FarmLab  # noqa: E402
from scenario import default_scenario, popular_ja4s  # noqa: E402

CATCH_UP = "10s"  # cluster growth held back by the update factor shows within a demo
TOOLS = ("ip", "ethtool", "nginx", "openssl", "curl", "tcpdump", "node", "chromium")
PLAIN_EVERY_S = 5
GROUP_ROW = "%-15s %9s %6s %5s"
DRAIN_TIMEOUT_S = 30
TOP_STACKS = 6


class DaemonFailed(Exception):
    pass


# --- output -----------------------------------------------------------------------------------

STYLES = {"b": "1", "dim": "2", "red": "1;31", "green": "32", "yellow": "33", "cyan": "36"}


class Screen:
    """Stage lines for everyone; on a terminal a view redrawn in place (ANSI: cursor up, erase
    line), else plain lines. No curses: nothing to install, and the last frame stays on screen."""

    def __init__(self, live):
        self.live = live and sys.stdout.isatty()
        self.color = self.live and not os.environ.get("NO_COLOR")
        self.drawn = 0  # lines of the current frame on screen

    def text(self, segs):
        """segs: str or [(text, style)]: the line in colour when on, cut to the terminal."""
        if isinstance(segs, str):
            segs = [(segs, None)]
        width = shutil.get_terminal_size((120, 40)).columns if self.live else 1 << 30
        out, used = [], 0
        for t, style in segs:
            t = t[:max(0, width - 1 - used)]
            used += len(t)
            out.append("\x1b[%sm%s\x1b[0m" % (STYLES[style], t) if style and self.color and t
                       else t)
        return "".join(out)

    def stage(self, msg):
        self.release()
        print(self.text([("==> ", "cyan"), (msg, "b")]), flush=True)

    def say(self, msg):
        self.release()
        print(self.text(msg), flush=True)

    def frame(self, lines):
        rows = shutil.get_terminal_size((120, 40)).lines
        lines = lines[:max(1, rows - 1)]  # a frame taller than the screen cannot be redrawn
        buf = []
        if self.drawn:
            buf.append("\x1b[%dF" % self.drawn)
        else:
            buf.append("\x1b[?25l")  # no cursor blinking through the view
        for ln in lines:
            buf.append("\x1b[2K" + self.text(ln) + "\n")
        buf.append("\x1b[J")
        sys.stdout.write("".join(buf))
        sys.stdout.flush()
        self.drawn = len(lines)

    def release(self):
        """The frame stays as it is; what follows goes below it."""
        if self.drawn:
            sys.stdout.write("\x1b[?25h")
            sys.stdout.flush()
            self.drawn = 0


def rel(path):
    """`path` as the user would type it from here."""
    r = os.path.relpath(path)
    return path if r.startswith("..") else r


def fmt_dur(s):
    s = max(0, int(round(s)))
    return "%d:%02d" % (s // 60, s % 60)


def more(items, n, sep=" "):
    """The first n items, and how many more."""
    items = list(items)
    return sep.join(items[:n]) + (" (+%d)" % (len(items) - n) if len(items) > n else "")


# --- ground truth --------------------------------------------------------------------------------

class Truth:
    def __init__(self, lab):
        self.t = lab.truth
        self.group = {a: v["group"] for a, v in lab.accounts.items()}
        self.farm_of = {a: f for f, accts in self.t["farms"].items() for a in accts}
        self.ordinary = set(self.t["ordinary"])

    def verdict(self, accounts):
        """(text, style): which farm(s) a finding's accounts are, or that it holds ordinary
        users."""
        hit = [a for a in accounts if a in self.ordinary]
        if hit:
            return ("ORDINARY USERS INCLUDED: %s" % more(sorted(hit), 3), "red")
        per = collections.Counter(self.farm_of.get(a, "?") for a in accounts)
        if not per:
            return ("", None)
        parts = ["%s %d/%d" % (f, k, len(self.t["farms"].get(f, ())))
                 for f, k in per.most_common()]
        return ("farm%s %s accounts" % ("s" if len(parts) > 1 else "", " + ".join(parts)),
                "green")

    def who(self, accounts):
        """The groups behind a set of accounts, farms first."""
        groups = collections.Counter(self.group.get(a, "?") for a in accounts)
        farms = sorted(g for g in groups if g in self.t["farms"])
        users = sorted(g for g in groups if g not in self.t["farms"])
        parts = farms[:]
        if users:
            parts.append("ordinary: " + more(users, 3, ", "))
        return ", ".join(parts)


# --- the daemon's outputs ----------------------------------------------------------------------

class RingReader:
    """`sybilwatch tail --follow` of the daemon's ring: every observation (kept in
    observations.jsonl) counted per JA4 with its accounts."""

    def __init__(self, lab, sybilwatch, ring, out_path):
        self.lock = threading.Lock()
        self.stacks = {}  # ja4 -> [connections, set(accounts)]
        self.seen = 0
        self.unattributed = []  # (src, src_port) of the connections passed on without account
        self.err_path = os.path.join(lab.tmp, "ring-tail.err")
        self.proc = subprocess.Popen([sybilwatch, "tail", "--ring", ring, "--from-start",
                                      "--follow"], stdout=subprocess.PIPE,
                                     stderr=open(self.err_path, "w"), stdin=subprocess.DEVNULL,
                                     text=True)
        lab.procs.append(self.proc)
        self.out = open(out_path, "w")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.out.write(line)
            try:
                o = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                self.seen += 1
                st = self.stacks.setdefault(o.get("ja4") or "(no JA4)", [0, set()])
                st[0] += 1
                if o.get("account"):
                    st[1].add(o["account"])
                else:
                    self.unattributed.append((o.get("src"), o.get("src_port")))

    def top(self, n):
        with self.lock:
            rows = [(k, v[0], set(v[1])) for k, v in self.stacks.items()]
        rows.sort(key=lambda r: (-len(r[2]), -r[1], r[0]))
        return rows[:n], len(rows)

    def stop(self):
        """Stops the reader once it has read what the daemon published; returns how many
        observations it missed (it says so on stderr when it falls behind)."""
        time.sleep(0.5)  # its last poll of the ring
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)
        self.out.close()
        missed = 0
        with open(self.err_path) as f:
            for m in re.finditer(r"missed (\d+) observations", f.read()):
                missed += int(m.group(1))
        return missed


class FindingsTail:
    """The daemon's findings file (JSON lines), read as it grows: every revision in order, and
    per finding_id its latest revision and the latest one that listed accounts."""

    def __init__(self, path):
        self.path = path
        self.f = None
        self.partial = ""
        self.all = []
        self.order = []  # finding ids, first seen first
        self.latest = {}
        self.with_accounts = {}
        self.changed_at = {}

    def poll(self):
        if self.f is None:
            try:
                self.f = open(self.path)
            except FileNotFoundError:
                return []
        data = self.partial + self.f.read()
        lines = data.split("\n")
        self.partial = lines.pop()  # a line the sink is still writing
        new = []
        for ln in lines:
            if not ln.strip():
                continue
            try:
                f = json.loads(ln)
                fid = f["finding_id"]
            except (ValueError, KeyError, TypeError):
                continue  # not a finding: nothing to show
            if fid not in self.latest:
                self.order.append(fid)
            cur = self.latest.get(fid)
            if cur is None or f["revision"] >= cur["revision"]:
                self.latest[fid] = f
                if f.get("accounts"):
                    self.with_accounts[fid] = f
            self.changed_at[fid] = time.time()
            self.all.append(f)
            new.append(f)
        return new

    def close(self):
        if self.f:
            self.f.close()


def shared_keys(f):
    """{field: [values]} of a finding's shared keys: link keys are composite
    ("ja4+net24+tcp_sig+bucket(rtt_ms, 5)" = "A|B|C|D"), aggregate findings' group-by values
    are plain; values busiest first."""
    out = collections.OrderedDict()

    def add(field, value):
        vals = out.setdefault(field, [])
        if value not in vals:
            vals.append(value)

    for k in f.get("keys", []):
        fields = k["field"].split("+")
        parts = k["value"].split("|", len(fields) - 1)
        if len(parts) != len(fields):
            add(k["field"], k["value"])
            continue
        for fld, val in zip(fields, parts):
            add(fld, val)
    for g in f.get("group", []):
        if g["field"] != "cluster":  # a link rule's group is its cluster number
            add(g["field"], g["value"])
    return out


def key_text(field, values):
    """"ja4 X", "rtt 25-30 ms" (a bucket's range), with how many more values there are."""
    m = re.match(r"bucket\((\w+),\s*([\d.]+)\)", field)
    if m:
        w = float(m.group(2))
        name = m.group(1)[:-3] if m.group(1).endswith("_ms") else m.group(1)
        unit = " ms" if m.group(1).endswith("_ms") else ""
        return "%s %s%s" % (name, more(["%g-%g" % (float(v), float(v) + w) for v in values], 2,
                                        ", "), unit)
    return "%s %s" % (field, more(values, 2))


def link_clusters(findings):
    """The account sets of the link findings still open at the end (their last revision)."""
    last = {}
    for f in findings:
        if f.get("kind") == "link" and f["revision"] >= last.get(f["finding_id"], f)["revision"]:
            last[f["finding_id"]] = f
    return {frozenset(f["accounts"]) for f in last.values() if f.get("activity") != "close"}


def finding_time(f, t0):
    """When the revision was raised: into the traffic (t0), which is what the demo shows."""
    ns = f.get("emitted_ns") or f.get("last_seen_ns") or 0
    if t0:
        return fmt_dur(ns / 1e9 - t0)
    return datetime.datetime.fromtimestamp(ns / 1e9).strftime("%H:%M:%S")


CLOSED = "closed: merged into another cluster or below its threshold"


def finding_parts(f, shown, truth):
    """(verdict, shared keys but networks and tcp_sig, networks, tcp_sigs) of a finding.
    `shown` is its latest revision that listed accounts (a Close lists none)."""
    verdict = (CLOSED, "dim") if f.get("activity") == "close" else \
        truth.verdict(shown.get("accounts", []))
    keys = shared_keys(shown)
    nets = [n["value"] for n in shown.get("networks", [])] or keys.get("net24", [])
    keys.pop("net24", None)
    sigs = keys.pop("tcp_sig", [])
    return verdict, "  ".join(key_text(k, v) for k, v in keys.items()), nets, sigs


def finding_block(f, shown, truth, t0):
    """Three lines: what fired and whose accounts it holds; the stack and networks they
    share; their TCP stack and who they are."""
    sev = f.get("severity", "?")
    verdict, share, nets, sigs = finding_parts(f, shown, truth)
    head = [(" %5s  " % finding_time(f, t0), None), ("%-22s" % f["rule"], "b"),
            (" %-6s" % sev, "red" if sev in ("high", "critical") else "yellow"),
            (" %4d accounts" % shown.get("account_count", 0), None),
            ("  rev %d %-6s  " % (f["revision"], f.get("activity", "")), "dim"), verdict]
    l2 = "    " + share + ("  net24 " + more(nets, 2) if nets else "")
    l3 = "    " + ("tcp_sig %s  " % more(sigs, 1) if sigs else "") + \
        "accounts " + more(shown.get("accounts", []), 2)
    return [head, [(l2, None)], [(l3, "dim")]]


def finding_line(f, shown, truth):
    """One line per revision, for logs."""
    verdict, share, nets, sigs = finding_parts(f, shown, truth)
    return ("FINDING %s %s rev %d (%s): %d accounts; %s; net24 %s; tcp_sig %s; accounts %s "
            "-> %s" % (f["rule"], f.get("severity"), f["revision"],
                       f.get("activity"), shown.get("account_count", 0), share or "-",
                       more(nets, 3) if nets else "-", more(sigs, 1) if sigs else "-",
                       more(shown.get("accounts", []), 3), verdict[0]))


# --- the demo ------------------------------------------------------------------------------------

class DemoLab(FarmLab):
    """The farm lab, announcing its gateway's start as it happens."""

    def __init__(self, workdir, scenario, screen):
        super().__init__(workdir, scenario=scenario)
        self.screen = screen

    def start_gateway(self):
        self.screen.stage("starting nginx (TLS 1.2/1.3, HTTP/2) in %s, writing the attribution "
                          "log" % self.gw_ns)
        super().start_gateway()


M = {
    "observations": "sybilwatch_observations_total",
    "unattributed": "sybilwatch_unattributed_observations_total",
    "flows": "sybilwatch_flows_total",
    "open": "sybilwatch_open_flows",
    "waiting": "sybilwatch_attribution_waiting_observations",
    "accounts": "sybilwatch_rules_accounts",
    "refused": "sybilwatch_rules_accounts_refused_total",
    "packets": "sybilwatch_capture_packets_total{source=ebpf}",
    "matched": "sybilwatch_capture_matched_total{source=ebpf}",
}
# Losses on the way from the wire to the rules, by stage.
DROPS = {
    "kernel ring": ("sybilwatch_capture_packet_drops_total{source=ebpf}",
                    "sybilwatch_capture_flow_end_drops_total{source=ebpf}"),
    "kernel flow map": ("sybilwatch_capture_insert_failures_total{source=ebpf}",
                        "sybilwatch_capture_evictions_total{source=ebpf}"),
    "flow table": ("sybilwatch_flows_evicted_total", "sybilwatch_reassembly_no_memory_total"),
}


def drops_of(m):
    out = {k: sum(m.get(x, 0) for x in keys) for k, keys in DROPS.items()}
    out["sinks"] = sum(v for k, v in m.items() if k.startswith("sybilwatch_sink_dropped_total"))
    return out


class Demo:
    def __init__(self, args, screen):
        self.args = args
        self.screen = screen
        self.sybilwatchd = os.path.join(args.bin, "sybilwatchd")
        self.sybilwatch = os.path.join(args.bin, "sybilwatch")
        self.results = os.path.abspath(args.results)
        self.popular = popular_ja4s(os.path.join(REPO, "rules"))
        self.stats = None
        self.status = {}
        self.phase = "traffic"
        self.last_plain = 0.0
        self.daemon = None
        self.daemon_log = ""
        self.t_traffic = None

    def path(self, name):
        return os.path.join(self.results, name)

    # --- live view ---------------------------------------------------------------------
    def poll(self):
        """Reads the daemon's status and new findings; prints findings in plain mode."""
        d = self.daemon
        if d.proc.poll() is not None:
            raise DaemonFailed("sybilwatchd exited with %s during the run" % d.proc.returncode)
        try:
            self.status = d.status()
        except (OSError, ValueError):
            pass  # one missed answer: the next second's will do
        self.print_new(self.findings.poll())

    def print_new(self, findings):
        """Without the live view, each finding revision is a line of its own."""
        if self.screen.live:
            return
        for f in findings:
            shown = self.findings.with_accounts.get(f["finding_id"], f)
            print("[%s] %s" % (finding_time(f, self.t_traffic),
                               finding_line(f, shown, self.truth)), flush=True)

    def progress(self, stats):
        if self.t_traffic is None:  # run_traffic's clock: its clients start first
            self.t_traffic = time.time() - stats["elapsed"]
        self.stats = stats
        self.poll()
        self.show()

    def show(self):
        if self.screen.live:
            self.screen.frame(self.view())
        elif time.time() - self.last_plain >= PLAIN_EVERY_S:
            self.last_plain = time.time()
            print(self.plain_status(), flush=True)

    def group_rows(self, kind):
        """Per group: accounts that connected so far / all, connections, failed ones."""
        st = self.stats["groups"] if self.stats else {}
        rows, tot = [], [0, 0, 0, 0]
        for name, g in self.lab.groups.items():
            if g["spec"]["kind"] != kind:
                continue
            s = st.get(name, {})
            v = (s.get("accounts", 0), len(g["accounts"]), s.get("connections", 0),
                 s.get("failures", 0))
            rows.append(GROUP_ROW % (name, "%d/%d" % v[:2], v[2], v[3]))
            tot = [a + b for a, b in zip(tot, v)]
        return rows, GROUP_ROW % ("all", "%d/%d" % tuple(tot[:2]), tot[2], tot[3])

    def daemon_lines(self):
        m = self.status.get("metrics", {})
        obs = m.get(M["observations"], 0)
        attributed = obs - m.get(M["unattributed"], 0)
        pct = " (%.1f%%)" % (100.0 * attributed / obs) if obs else ""
        drops = drops_of(m)
        bad = any(drops.values()) or m.get(M["refused"], 0)
        raised = [m.get("sybilwatch_findings_total{activity=%s}" % a, 0)
                  for a in ("create", "update", "close")]
        return [
            [("SYBILWATCHD  ", "b"), ("%s, pid %s, up %ss (its status on the control socket)" % (
                self.status.get("capture", "?"), self.status.get("pid", "?"),
                self.status.get("uptime_seconds", "?")), "dim")],
            " capture:      %d packets, %d of them port 443; %d connections, %d open" % (
                m.get(M["packets"], 0), m.get(M["matched"], 0), m.get(M["flows"], 0),
                m.get(M["open"], 0)),
            " attribution:  %d observations, %d with their account%s, %d waiting for it" % (
                obs, attributed, pct, m.get(M["waiting"], 0)),
            " rules:        %d loaded, %d accounts tracked; findings raised %d, updated %d, "
            "closed %d" % ((m.get("sybilwatch_rules_loaded", 0), m.get(M["accounts"], 0)) +
                           tuple(raised)),
            [(" drops:        " + ", ".join("%s %d" % kv for kv in drops.items()),
              "red" if bad else None)],
        ]

    def stack_lines(self, n):
        rows, total = self.ring.top(n)
        out = [[("TOP CLIENT STACKS", "b"), ("  %d JA4s in %d connections (the daemon's ring)"
                                              % (total, self.ring.seen), "dim")],
               [(" %-36s %6s %6s  %-8s %s" % ("ja4", "conns", "accts", "in pack", "accounts of"),
                 "dim")]]
        for ja4, conns, accts in rows:
            out.append(" %-36s %6d %6d  %-8s %s" % (
                ja4, conns, len(accts), "popular" if ja4 in self.popular else "",
                self.truth.who(accts) or "(no account)"))
        return out

    def finding_lines(self, room):
        """The findings pane in `room` lines: a block per finding id, its latest revision;
        shorter blocks, then only the latest changed findings, when the screen is short."""
        fl = self.findings
        head = [[("FINDINGS", "b"), ("  %d (%d revisions) as they fire, into %s/: findings.jsonl,"
                                     " findings-ocsf.jsonl" % (len(fl.latest), len(fl.all),
                                                               rel(self.results)), "dim")]]
        if not fl.order:
            return head + [[(" none yet: a cluster needs 10 linked accounts", "dim")]]
        ids = list(fl.order)
        per = next((k for k in (3, 2) if 1 + k * len(ids) <= room), 1)
        fit = max(1, room - 2)
        if len(ids) > fit:  # the most recently changed ones
            keep = set(sorted(ids, key=lambda i: fl.changed_at[i])[-fit:])
            head.append([(" (%d more in the file)" % (len(ids) - len(keep)), "dim")])
            ids = [i for i in ids if i in keep]
        out = head
        for fid in ids:
            f = fl.latest[fid]
            out += finding_block(f, fl.with_accounts.get(fid, f), self.truth,
                                 self.t_traffic)[:per]
        return out

    def view(self):
        """The frame: progress, clients, daemon, client stacks, findings. On a short terminal
        the upper panes shrink first (the findings are what the demo is about)."""
        st = self.stats or {"elapsed": 0, "duration": self.args.duration}
        el, dur = st["elapsed"], st["duration"]
        bar_w = 30
        done = min(bar_w, int(bar_w * el / dur)) if dur else bar_w
        if self.phase == "traffic" and el <= dur:
            when = "traffic %s of %s, %s left" % (fmt_dur(el), fmt_dur(dur), fmt_dur(dur - el))
        elif self.phase == "traffic":
            when = "traffic done at %s: the last connections finishing" % fmt_dur(dur)
        else:
            when = self.phase
        title = [[("sybilwatch demo  ", "b"), ("[%s%s]  " % ("#" * done, "." * (bar_w - done)),
                                                "cyan"), (when, None)], ""]
        farms, ftot = self.group_rows("farm")
        users, utot = self.group_rows("ordinary")
        two = " %-38s    %s"
        head = [[(two % (GROUP_ROW % ("FARMS", "accounts", "conns", "fail"),
                         GROUP_ROW % ("ORDINARY USERS", "accounts", "conns", "fail")), "b")]]
        groups = [two % (farms[i] if i < len(farms) else "", users[i] if i < len(users) else "")
                  for i in range(max(len(farms), len(users)))]
        total = [[(two % (ftot, utot), None)]]
        rows = shutil.get_terminal_size((120, 40)).lines - 1
        want = 1 + min(4, max(1, len(self.findings.order)))  # a line for each of 4 findings
        for level in range(4):
            lines = title + head + (groups if level == 0 else []) + total + [""]
            lines += self.daemon_lines() + [""]
            if level < 3:
                lines += self.stack_lines(TOP_STACKS if level < 2 else 2) + [""]
            if rows - len(lines) >= want:
                break
        return lines + self.finding_lines(max(2, rows - len(lines)))

    def plain_status(self):
        st = self.stats or {"elapsed": 0, "duration": self.args.duration, "groups": {}}
        g = st.get("groups", {})
        fc = sum(x["connections"] for x in g.values() if x["kind"] == "farm")
        oc = sum(x["connections"] for x in g.values() if x["kind"] != "farm")
        fails = sum(x["failures"] for x in g.values())
        m = self.status.get("metrics", {})
        obs = m.get(M["observations"], 0)
        att = obs - m.get(M["unattributed"], 0)
        return ("[%s/%s] %s: connections farms %d, ordinary %d, failed %d | daemon: "
                "observations %d, attributed %d, open %d, drops %d | rules: %d accounts | "
                "findings %d (%d revisions)" % (
                    fmt_dur(st["elapsed"]), fmt_dur(st["duration"]), self.phase, fc, oc, fails,
                    obs, att,
                    m.get(M["open"], 0), sum(drops_of(m).values()), m.get(M["accounts"], 0),
                    len(self.findings.latest), len(self.findings.all)))

    # --- the run -------------------------------------------------------------------------
    def config(self):
        """The daemon's config beyond swlab's: the built-in pack with a short catch-up, findings
        as JSON lines and as OCSF into the results directory."""
        return ("rules:\n  catch_up: %s\n"
                "output:\n  findings: %s\n  stdout: false\n"
                "sinks:\n  - name: ocsf\n    type: file\n    format: ocsf\n    path: %s\n" %
                (CATCH_UP, self.path("findings.jsonl"), self.path("findings-ocsf.jsonl")))

    def prepare_results(self):
        os.makedirs(self.results, exist_ok=True)
        for name in RESULT_FILES:  # only ours: --results may name a directory with other files
            try:
                os.unlink(self.path(name))
            except FileNotFoundError:
                pass

    def run(self, tmp):
        a = self.args
        self.prepare_results()
        scenario = default_scenario(a.scale)
        lab = self.lab = DemoLab(os.path.join(tmp, "lab"), scenario, self.screen)
        truth = lab.truth
        nfarm = sum(map(len, truth["farms"].values()))
        self.screen.stage("creating the lab: %d namespaces (gateway, switch, %d for clients), "
                          "%d farms of %d accounts, %d ordinary accounts" % (
                              len(lab.namespaces), len(lab.namespaces) - 2, len(truth["farms"]),
                              nfarm, len(truth["ordinary"])))
        self.truth = Truth(lab)  # planned before the lab is built
        self.describe_scenario()
        t = time.time()
        with lab:
            self.screen.say("    lab up in %.1fs" % (time.time() - t))
            try:
                self.run_in_lab(lab)
            finally:
                # The lab goes away now, whatever happened: a second Ctrl-C must not cut that
                # short and leave namespaces behind.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                self.screen.release()
                if self.daemon:  # its log is in the lab's directory, gone after this
                    self.daemon_log = self.daemon.log()
                try:
                    self.keep_artifacts(lab)
                except OSError as e:
                    self.screen.say("    could not keep the lab's logs in %s: %s" %
                                    (rel(self.results), e))
                self.screen.stage("cleaning up: stopping the lab's processes, deleting %d "
                                  "namespaces" % len(lab.namespaces))
        left = [ns for ns in lab.namespaces
                if ns in subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                                        text=True).stdout.split()]
        if left:
            self.screen.say([("    namespaces left behind: %s" % " ".join(left), "red")])
        else:
            self.screen.say("    all %d namespaces gone" % len(lab.namespaces))
        self.report()
        self.give_results_to_sudo_user()

    def give_results_to_sudo_user(self):
        """Under sudo, the results belong to whoever ran it: they can read and delete them."""
        uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
        if not uid or not gid:
            return
        for name in RESULT_FILES + ("",):
            try:
                os.chown(self.path(name), int(uid), int(gid))
            except (OSError, ValueError):
                pass

    def describe_scenario(self):
        for name, g in self.lab.groups.items():
            spec = g["spec"]
            if spec["kind"] != "farm":
                continue
            site = g["sites"][0]
            self.screen.say("    %-13s %3d accounts  %-24s exits: %d addresses in %d networks, "
                            "%s TCP stack, %g ms" % (name, len(g["accounts"]), spec["stack"],
                                                      len(site.addresses), len(site.nets),
                                                      site.spec["tcp"], site.rtt_ms))
        users = [n for n, g in self.lab.groups.items() if g["spec"]["kind"] != "farm"]
        self.screen.say("    ordinary users: %d accounts in %d groups (%s)" % (
            len(self.truth.ordinary), len(users), ", ".join(users)))

    def run_in_lab(self, lab):
        a = self.args
        self.screen.stage("starting sybilwatchd (eBPF on %s, the built-in rule pack, findings "
                          "to %s)" % (lab.gw_if, rel(self.results)))
        try:
            d = self.daemon = lab.start_daemon(self.sybilwatchd, self.config())
        except RuntimeError as e:
            raise DaemonFailed(str(e))
        self.ring = RingReader(lab, self.sybilwatch, d.ring, self.path("observations.jsonl"))
        self.findings = FindingsTail(self.path("findings.jsonl"))
        lab.start_capture(self.path("capture.pcap"))
        self.screen.stage("traffic for %g s (tcpdump of %s into %s)" % (
            a.duration, lab.gw_if, rel(self.path("capture.pcap"))))
        self.stats = lab.run_traffic(a.duration, progress=self.progress)
        self.made = len(lab.connections)
        # Every connection ends and is joined with its account before the daemon stops.
        self.phase = "waiting for the daemon to pass on every connection"
        t_end = time.time() + DRAIN_TIMEOUT_S
        while time.time() < t_end:
            self.poll()
            self.show()
            m = self.status.get("metrics", {})
            if (m.get(M["observations"], 0) >= self.made and m.get(M["open"], 1) == 0 and
                    m.get(M["waiting"], 1) == 0):
                break
            time.sleep(1.0)
        self.final_status = self.status
        self.phase = "stopping sybilwatchd (SIGTERM: held-back cluster growth is raised)"
        self.show()
        rc = d.stop()
        lab.stop_capture()
        self.missed = self.ring.stop()
        self.phase = "done: sybilwatchd exited %s" % rc
        self.poll_after_stop()
        self.findings.close()
        if rc != 0:
            raise DaemonFailed("sybilwatchd exited %s on SIGTERM" % rc)
        summary = self.build_summary(lab)
        self.screen.stage("summary")
        for ln in summary:
            self.screen.say("    " + ln)
        with open(self.path("summary.txt"), "w") as f:
            f.write("\n".join(summary) + "\n")

    def poll_after_stop(self):
        """The findings raised at stop, then the last frame."""
        self.print_new(self.findings.poll())
        if self.screen.live:
            self.screen.frame(self.view())
        else:
            print(self.plain_status(), flush=True)
        self.screen.release()

    def keep_artifacts(self, lab):
        """What the lab's directory holds that the results need, as far as it got."""
        copies = [(lab.access_log, "attribution.jsonl")]
        if self.daemon:
            copies += [(self.daemon.log_path, "sybilwatchd.log"),
                       (self.daemon.config_path, "sybilwatchd.yaml")]
        for src, name in copies:
            try:
                shutil.copyfile(src, self.path(name))
            except OSError:
                pass
        try:
            os.unlink(self.path("capture.pcap.err"))  # tcpdump's chatter, no result
        except FileNotFoundError:
            pass
        with open(self.path("connections.jsonl"), "w") as f:
            for c in lab.connections:
                f.write(json.dumps(c) + "\n")
        with open(self.path("truth.json"), "w") as f:
            json.dump(lab.truth, f, indent=1)
            f.write("\n")

    # --- the end -----------------------------------------------------------------------------
    def build_summary(self, lab):
        fl = self.findings
        truth = self.truth
        lines = []
        # Per finding id, the last revision that listed accounts: a Close lists none, and what
        # a finding once said stays said.
        shown = fl.with_accounts
        by_rule = collections.defaultdict(list)
        for fid, f in shown.items():
            by_rule[f["rule"]].append((fid, set(f["accounts"])))
        open_link = {fid for fid, f in fl.latest.items()
                     if f.get("kind") == "link" and f.get("activity") != "close"}
        lines.append("%-14s %8s %7s %5s   %s" % ("farm", "accounts", "found", "%", "found by"))
        total_found = total_accts = 0
        for farm, accts in truth.t["farms"].items():
            accts = set(accts)
            found = set()
            rules = []
            for rule, fs in sorted(by_rule.items()):
                hit = set()
                clusters = 0
                for fid, members in fs:
                    if members & accts:
                        hit |= members & accts
                        clusters += fid in open_link
                if hit:
                    found |= hit
                    extra = " in %d cluster%s" % (clusters, "" if clusters == 1 else "s") \
                        if clusters else ""
                    rules.append("%s %d%s" % (rule, len(hit), extra))
            total_found += len(found)
            total_accts += len(accts)
            lines.append("%-14s %8d %7s %4.0f%%   %s" % (
                farm, len(accts), "%d/%d" % (len(found), len(accts)),
                100.0 * len(found) / len(accts), "; ".join(rules) or "NOT FOUND"))
        lines.append("%-14s %8d %7s %4.0f%%" % ("all farms", total_accts, "%d/%d" % (
            total_found, total_accts), 100.0 * total_found / max(1, total_accts)))
        flagged = set()
        for f in fl.all:
            flagged |= truth.ordinary & set(f.get("accounts", []))
        self.flagged = flagged
        lines.append("")
        lines.append("ordinary accounts flagged: %d of %d%s" % (
            len(flagged), len(truth.ordinary),
            " (%s)" % more(sorted(flagged), 5) if flagged else ""))
        m = self.final_status.get("metrics", {})
        obs = m.get(M["observations"], 0)
        att = obs - m.get(M["unattributed"], 0)
        fails = sum(1 for c in lab.connections if not c["ok"])
        rules_count = collections.Counter(f["rule"] for f in fl.latest.values())
        with open(self.path("findings-ocsf.jsonl")) if os.path.exists(
                self.path("findings-ocsf.jsonl")) else open(os.devnull) as f:
            ocsf_lines = sum(1 for ln in f if ln.strip())
        lines.append("connections: %d made by the clients (%d failed)" % (self.made, fails))
        lines.append("sybilwatchd: %d observed, %d with their account (%.1f%%)%s" % (
            obs, att, 100.0 * att / obs if obs else 0, self.unattributed_text(lab)))
        lines.append("findings: %d (%s), %d revisions; JSON %d lines, OCSF %d lines" % (
            len(fl.latest), ", ".join("%s %d" % kv for kv in sorted(rules_count.items())) or
            "none", len(fl.all), len(fl.all), ocsf_lines))
        drops = drops_of(m)
        drops["ring readers"] = self.missed
        lines.append("drops: " + ", ".join("%s %d" % kv for kv in drops.items()))
        return lines

    def unattributed_text(self, lab):
        """Why connections went without an account: none of them should have carried an
        authenticated request (a browser opens a spare connection it never uses)."""
        if not self.ring.unattributed:
            return ""
        authenticated = set()
        with open(lab.access_log) as f:
            for ln in f:
                try:
                    r = json.loads(ln)
                except ValueError:
                    continue
                if r.get("account"):
                    authenticated.add((r.get("client_ip"), r.get("client_port")))
        missed = [c for c in self.ring.unattributed if c in authenticated]
        if missed:
            return "; %d without, %d of them with an authenticated request" % (
                len(self.ring.unattributed), len(missed))
        return "; the other %d made no authenticated request" % len(self.ring.unattributed)

    def report(self):
        s = self.screen
        res = rel(self.results)
        s.stage("results kept in %s/" % res)
        for name, what in (("findings.jsonl", "findings, native JSON lines (every revision)"),
                           ("findings-ocsf.jsonl", "the same findings as OCSF 1.4 Detection "
                                                   "Findings (class 2004)"),
                           ("capture.pcap", "tcpdump of the gateway's veth"),
                           ("attribution.jsonl", "nginx's attribution log (account per "
                                                 "request)"),
                           ("observations.jsonl", "every connection as the daemon published "
                                                  "it (sybilwatch tail)"),
                           ("truth.json", "the lab's ground truth: farms and ordinary accounts")):
            if os.path.exists(self.path(name)):
                s.say("    %-22s %s" % (name, what))
        cmd = [self.sybilwatch, "replay", "--pcap", self.path("capture.pcap"), "--identity",
               self.path("attribution.jsonl"), "--alerts", self.path("replay-findings.jsonl")]
        s.say("    replay it offline (the same pipeline and rules, in packet time):")
        s.say([("    " + " ".join(rel(c) if os.sep in c else c for c in cmd), "b")])
        s.say("    " + self.replay(cmd))

    def replay(self, cmd):
        """Runs the replay once (it takes a second): its link clusters against the live ones."""
        t = time.time()
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            return "(ran it: exit %d: %s)" % (r.returncode, r.stderr.strip()[-300:])
        with open(self.path("replay-findings.jsonl")) as f:
            replayed = [json.loads(ln) for ln in f if ln.strip()]
        live, again = link_clusters(self.findings.all), link_clusters(replayed)
        if live == again:
            return "(ran it in %.1fs: the same %d account clusters as live)" % (
                time.time() - t, len(live))
        return "(ran it in %.1fs: %d clusters, live had %d; %d differ)" % (
            time.time() - t, len(again), len(live), len(live ^ again))


RESULT_FILES = ("findings.jsonl", "findings-ocsf.jsonl", "capture.pcap", "capture.pcap.err",
                "attribution.jsonl", "observations.jsonl", "connections.jsonl", "truth.json",
                "sybilwatchd.log", "sybilwatchd.yaml", "summary.txt", "replay-findings.jsonl")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(REPO, "build", "bin"),
                    help="directory of sybilwatchd and sybilwatch (default build/bin)")
    ap.add_argument("--duration", type=float, default=120.0,
                    help="seconds of traffic (default 120)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="accounts per group, scaled (default 1: 130 farm accounts; a farm "
                         "keeps at least 12)")
    ap.add_argument("--results", default=os.path.join(REPO, "build", "demo"),
                    help="where findings, capture and logs are kept (default build/demo)")
    ap.add_argument("--no-live", action="store_true",
                    help="no redrawn view: a status line every 5 s and a line per finding")
    args = ap.parse_args()
    if args.duration <= 0 or args.scale <= 0:
        ap.error("--duration and --scale must be positive")
    try:
        sys.stdout.reconfigure(errors="replace")
    except AttributeError:
        pass
    if os.geteuid() != 0:
        print("demo: needs root: the lab is network namespaces, and sybilwatchd loads BPF "
              "programs. Run: sudo make demo", file=sys.stderr)
        return 1
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        print("demo: not installed: %s (make deps installs them)" % " ".join(missing),
              file=sys.stderr)
        return 1
    args.bin = os.path.abspath(args.bin)
    for b in ("sybilwatchd", "sybilwatch"):
        if not os.access(os.path.join(args.bin, b), os.X_OK):
            print("demo: %s/%s not found: build first (make)" % (args.bin, b), file=sys.stderr)
            return 1
    swlab.install_signal_exits()
    screen = Screen(not args.no_live)
    demo = Demo(args, screen)
    t0 = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="sw-demo.") as tmp:
            demo.run(tmp)
        screen.stage("done in %s" % fmt_dur(time.time() - t0))
        return 0
    except DaemonFailed as e:
        screen.release()
        print("demo: FAILED: %s" % e, file=sys.stderr)
        if demo.daemon_log:
            print("--- sybilwatchd log (last lines) ---\n%s" % demo.daemon_log[-3000:],
                  file=sys.stderr)
        return 1
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        screen.release()
        print("demo: FAILED: %s" % e, file=sys.stderr)
        return 1
    except SystemExit as e:
        screen.release()
        print("\ndemo: interrupted; the lab was removed", file=sys.stderr)
        return e.code if isinstance(e.code, int) else 1
    finally:
        screen.release()
        sys.stdout.write("\x1b[?25h" if screen.live else "")


if __name__ == "__main__":
    sys.exit(main())
