"""The farm lab: account farms and ordinary users in their own network namespaces, all talking
to the gateway lab's API (swlab.Lab: nginx with TLS and HTTP/2, the attribution log) through one
Linux bridge, so that sybilwatchd on the gateway's one veth sees every client's own TCP stack.

    from farm_lab import FarmLab
    from scenario import default_scenario

    with FarmLab(workdir, scenario=default_scenario(scale=1.0)) as lab:   # network + gateway
        d = lab.start_daemon(sybilwatchd, extra_config)   # sybilwatchd in the gateway ns (eBPF)
        lab.start_capture(path)                          # tcpdump of the gateway's veth
        port, received = lab.start_rsyslog()             # the lab's SIEM (127.0.0.1:port)
        stats = lab.run_traffic(duration_s, progress=cb) # blocks; cb(stats) about every second
        lab.truth      # {"farms": {name: [accounts]}, "ordinary": [accounts]}
        lab.stop_capture()

stats (and each progress call): {"elapsed": s, "duration": s, "connections": n, "failures": n,
"groups": {group: {"kind", "role", "connections", "failures", "requests", "accounts"}}}
("accounts": how many of the group's accounts made a connection so far). Every connection is
also in lab.connections (dicts: t, group, kind, account, site, src, port, requests, ok, error)
and written to WORKDIR/connections.jsonl. Also there for a demo: lab.sites (name -> Site: ns,
spec, nets, addresses, rtt_ms), lab.groups (name -> {"spec", "sites", "accounts"}),
lab.accounts (account -> {"group", "kind", "key"}), lab.delay_stats().

Topology (names carry the creating process's pid, so parallel labs never collide):

    swgw-PID (gateway: nginx, sybilwatchd, tcpdump, rsyslogd)  swg<PID> 10.214.0.1 fd00:5714::1
        | veth
    swsw-PID (switch: bridge br0; no addresses, no TTL change; delay_line.py)
        | veth to a bridge port per client namespace; a site's veth reaches its bridge port
        | through the delay line (offloads off on every end: real segments on the wire)
    swcl-PID (swlab.Lab's client, so Lab.curl() still works)
    swns-PID-SITE (one per scenario site: its TCP stack through sysctls and route attributes,
                   its RTT as a delay of its packets towards the gateway, its addresses in its
                   own /24s and /48s)

The delay is delay_line.py's (userspace, real-time priority): this lab's kernels have neither
sch_netem nor sch_fq. delay_stats() says how late it ever was.

Everything the lab starts it stops, and the namespaces are deleted on success, failure and
signals (swlab.install_signal_exits() turns SIGINT/SIGTERM into exceptions; run_traffic stops
its clients on them).
"""

import ipaddress
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time

import swlab
from scenario import STACKS, TCP_PROFILES, account_key, default_scenario

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENTS = os.path.join(HERE, "clients")
FARM_NET4 = ipaddress.ip_network("10.220.0.0/14")
FARM_NET6 = ipaddress.ip_network("fd00:5720::/32")
CONNECT_TIMEOUT = 15  # seconds for one connection, whatever the tool


_run = swlab._run


class Site:
    """A client namespace: one TCP stack, one RTT, addresses in its own networks."""

    def __init__(self, spec, ns, link_index):
        self.name = spec["name"]
        self.spec = spec
        self.ns = ns
        self.tcp = TCP_PROFILES[spec["tcp"]]
        self.rtt_ms = float(spec["rtt_ms"])
        self.link4 = "10.214.0.%d" % (10 + link_index)
        self.link6 = "fd00:5714::%x" % (0x10 + link_index)
        # In the switch: s<i> (the site's veth peer) -> delay line -> d<i> = b<i> (bridge port).
        self.switch_if = "s%d" % link_index
        self.delay_if = "d%d" % link_index
        self.bridge_port = "b%d" % link_index
        self.nets = []  # ipaddress networks: /24s then /48s
        self.addresses = []  # str, in network order
        self._own_cursor = 0  # next address handed out to an "own"-address account

    def take_address(self):
        a = self.addresses[self._own_cursor]
        self._own_cursor += 1
        return a


class Driver:
    """A long-lived client process (clients/tls_driver.py or .js) in a namespace: one JSON
    command per connection, results matched by id."""

    def __init__(self, lab, site, stack_name):
        stack = STACKS[stack_name]
        if stack["tool"] == "python":
            argv = [sys.executable, os.path.join(CLIENTS, "tls_driver.py")]
        else:
            argv = [shutil.which("node") or "node", os.path.join(CLIENTS, "tls_driver.js")]
        argv += ["--ca", lab.ca, "--sni", swlab.SNI, "--profile", json.dumps(stack["profile"])]
        self.err_path = os.path.join(lab.tmp, "driver-%s-%s.err" % (site.name, stack_name))
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(["ip", "netns", "exec", site.ns] + argv,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, text=True, bufsize=1)
        lab.procs.append(self.proc)
        self.what = "%s in %s" % (stack_name, site.name)
        self.lock = threading.Lock()
        self.waiting = {}  # id -> [Event, result]
        self.next_id = 0
        self.reader = None

    def wait_ready(self):
        """Waits for the driver's first line (interpreters start slowly on a busy machine:
        start them all, then wait)."""
        ready = self.proc.stdout.readline()
        if not ready or not json.loads(ready).get("ready"):
            raise RuntimeError("driver %s did not start:\n%s" %
                               (self.what, open(self.err_path).read()))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                res = json.loads(line)
            except ValueError:
                continue
            with self.lock:
                w = self.waiting.pop(res.get("id"), None)
            if w:
                w[1] = res
                w[0].set()
        with self.lock:  # the driver is gone: whoever waits fails now rather than at timeout
            for w in self.waiting.values():
                w[1] = {"ok": False, "error": "driver exited"}
                w[0].set()
            self.waiting.clear()

    def call(self, cmd, timeout=CONNECT_TIMEOUT):
        ev = threading.Event()
        with self.lock:
            self.next_id += 1
            cmd = dict(cmd, id=self.next_id)
            self.waiting[self.next_id] = slot = [ev, None]
            try:
                self.proc.stdin.write(json.dumps(cmd) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError):
                self.waiting.pop(self.next_id, None)
                return {"ok": False, "error": "driver exited"}
        if not ev.wait(timeout):
            with self.lock:
                self.waiting.pop(cmd["id"], None)
            return {"ok": False, "error": "no answer in %ds" % timeout}
        return slot[1]

    def stop(self):
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class FarmLab(swlab.Lab):
    def __init__(self, workdir, scenario=None):
        super().__init__(workdir)
        self.scenario = scenario or default_scenario()
        self.seed = int(self.scenario.get("seed", 7))
        self.sw_ns = "swsw-" + self.tag
        self.sites = {}
        for i, spec in enumerate(self.scenario["sites"]):
            self.sites[spec["name"]] = Site(spec, "swns-%s-%s" % (self.tag, spec["name"]), i)
        self.namespaces = [s.ns for s in self.sites.values()] + [self.cli_ns, self.sw_ns,
                                                                  self.gw_ns]
        self._allocate()
        self.accounts = {}  # account -> {"group", "kind", "key"}
        self.groups = {}  # group name -> {"spec", "accounts": [names], "addresses": {acct: src}}
        self._plan_groups()
        self.connections = []
        self._stats_lock = threading.Lock()
        self._stats = None
        self._drivers = {}
        self._drivers_lock = threading.Lock()
        self._chromium = threading.Semaphore(1)  # one browser at a time on a 2-core machine

    # --- plan: addresses and accounts -------------------------------------------------------
    def _allocate(self):
        nets4 = FARM_NET4.subnets(new_prefix=24)
        next(nets4)  # 10.220.0.0/24 stays unused: an address ending in .0 reads as a mistake
        nets6 = FARM_NET6.subnets(new_prefix=48)
        next(nets6)
        for s in self.sites.values():
            for _ in range(s.spec.get("nets4", 0)):
                net = next(nets4)
                s.nets.append(net)
                s.addresses += [str(net[10 + h]) for h in range(s.spec.get("hosts", 1))]
            for _ in range(s.spec.get("nets6", 0)):
                net = next(nets6)
                s.nets.append(net)
                s.addresses += [str(net[0x10 + h]) for h in range(s.spec.get("hosts", 1))]

    def _plan_groups(self):
        for g in self.scenario["groups"]:
            sites = [self.sites[n] for n in g["sites"]]
            names = ["%s-%02d" % (g["name"], i + 1) for i in range(g["accounts"])]
            if g["accounts"] == 1:
                names = [g["name"]]
            own = {}
            if g["assign"] == "own":
                # Account i on site i % len(sites), on that site's next unused address.
                for i, a in enumerate(names):
                    site = sites[i % len(sites)]
                    own[a] = (site, site.take_address())
            elif g["assign"] == "shared":
                own = {a: (sites[0], sites[0].addresses[0]) for a in names}
            self.groups[g["name"]] = {"spec": g, "sites": sites, "accounts": names, "own": own}
            for a in names:
                self.accounts[a] = {"group": g["name"], "kind": g["kind"],
                                    "key": account_key(a, self.seed)}

    @property
    def truth(self):
        """{"farms": {farm: [accounts]}, "ordinary": [accounts]}: the scenario's ground truth."""
        farms = {n: sorted(g["accounts"]) for n, g in self.groups.items()
                 if g["spec"]["kind"] == "farm"}
        ordinary = sorted(a for a, v in self.accounts.items() if v["kind"] != "farm")
        return {"farms": farms, "ordinary": ordinary}

    def stack_of(self, group, site):
        st = self.groups[group]["spec"]["stack"]
        if isinstance(st, list):
            return st[self.groups[group]["spec"]["sites"].index(site.name)]
        return st

    # --- setup ----------------------------------------------------------------------------
    def __enter__(self):
        super().__enter__()  # _network() and the certificates; closes on failure
        try:
            self.add_accounts({v["key"]: a for a, v in self.accounts.items()})
            self.start_gateway()
        except BaseException:
            self.close()
            raise
        return self

    def _in(self, ns, script):
        r = _run(["ip", "netns", "exec", ns, "sh", "-ec", script], check=False)
        if r.returncode != 0:
            raise RuntimeError("setting up %s failed:\n%s\n%s" % (ns, script, r.stderr))

    def _network(self):
        batch = ["netns add %s" % ns for ns in self.namespaces]
        _run(["ip", "-batch", "-"], input="\n".join(batch) + "\n")
        links = ["link add %s netns %s type veth peer name g0 netns %s" %
                 (self.gw_if, self.gw_ns, self.sw_ns),
                 "link add %s netns %s type veth peer name c0 netns %s" %
                 (self.cli_if, self.cli_ns, self.sw_ns)]
        for s in self.sites.values():
            links.append("link add eth0 netns %s type veth peer name %s netns %s" %
                         (s.ns, s.switch_if, self.sw_ns))
            links.append("link add %s netns %s type veth peer name %s netns %s" %
                         (s.bridge_port, self.sw_ns, s.delay_if, self.sw_ns))
        _run(["ip", "-batch", "-"], input="\n".join(links) + "\n")
        off = "ethtool -K %s tso off gso off gro off tx off >/dev/null"
        ports = ["g0", "c0"] + [s.bridge_port for s in self.sites.values()]
        wires = [i for s in self.sites.values() for i in (s.switch_if, s.delay_if)]
        # The switch: a plain learning bridge, no STP delay, no multicast snooping (NDP must
        # reach every port), no IPv6 of its own (nothing of its own on the wire).
        self._in(self.sw_ns, "\n".join(
            ["sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1",
             "ip link set lo up",
             "ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0",
             "ip link set br0 up"] +
            ["ip link set %s master br0 && %s && ip link set %s up" % (p, off % p, p)
             for p in ports] +
            ["%s && ip link set %s promisc on up" % (off % w, w) for w in wires]))
        routes = ["ip route add %s dev %s" % (n, self.gw_if) for n in swlab.CLIENT_NETS4]
        self._in(self.gw_ns, "\n".join([
            "sysctl -qw net.ipv6.conf.%s.accept_dad=0" % self.gw_if,
            "ip link set lo up", "ip link set %s up" % self.gw_if, off % self.gw_if,
            "ip addr add %s/24 dev %s" % (swlab.GW4, self.gw_if),
            "ip -6 addr add %s/64 dev %s nodad" % (swlab.GW6, self.gw_if),
            "ip -6 route add %s dev %s" % (swlab.CLIENT_NET6, self.gw_if),
            # Every site's networks are on the bridge: the gateway ARPs/NDPs for them.
            "ip route add %s dev %s" % (FARM_NET4, self.gw_if),
            "ip -6 route add %s dev %s" % (FARM_NET6, self.gw_if)] + routes))
        self._in(self.cli_ns, "\n".join([
            "sysctl -qw net.ipv6.conf.%s.accept_dad=0" % self.cli_if,
            "ip link set lo up", "ip link set %s up" % self.cli_if, off % self.cli_if,
            "ip addr add 10.214.0.2/24 dev %s" % self.cli_if,
            "ip -6 addr add fd00:5714::2/64 dev %s nodad" % self.cli_if]))
        for s in self.sites.values():
            self._in(s.ns, self._site_script(s))
        self._static_neighbours()
        self._start_delay_line()

    def _static_neighbours(self):
        """The gateway knows every client address's MAC from the start, as a server knows its
        router's: otherwise the first SYN-ACK to an address waits for ARP/NDP across the delay
        line and that connection's RTT comes out doubled."""
        batch = []
        for s in self.sites.values():
            mac = json.loads(_run(["ip", "-n", s.ns, "-j", "link", "show", "eth0"]).stdout)
            for a in s.addresses + [s.link4, s.link6]:
                batch.append("neigh replace %s lladdr %s dev %s nud permanent" %
                             (a, mac[0]["address"], self.gw_if))
        _run(["ip", "-n", self.gw_ns, "-batch", "-"], input="\n".join(batch) + "\n")

    def _start_delay_line(self):
        pairs = []
        for s in self.sites.values():
            pairs += ["--pair", "%s:%s:%s" % (s.switch_if, s.delay_if, s.rtt_ms)]
        with open(os.path.join(self.tmp, "delay_line.err"), "w") as err:
            self.delay_line = subprocess.Popen(
                ["ip", "netns", "exec", self.sw_ns, sys.executable,
                 os.path.join(HERE, "delay_line.py")] + pairs,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True)
        self.procs.append(self.delay_line)
        if self.delay_line.stdout.readline().strip() != "ready":
            raise RuntimeError("delay_line.py did not start:\n" +
                               open(os.path.join(self.tmp, "delay_line.err")).read())

    def delay_stats(self):
        """The delay line's counters: {"delayed", "returned", "send_errors", "late_1ms",
        "max_late_us"} (frames; late = sent after its due time)."""
        self.delay_line.send_signal(signal.SIGUSR1)
        return json.loads(self.delay_line.stdout.readline())

    def _site_script(self, s):
        t = s.tcp
        sysctls = ["net.ipv6.conf.eth0.accept_dad=0",
                   "net.ipv4.ip_default_ttl=%d" % t["ttl"],
                   "net.ipv6.conf.eth0.hop_limit=%d" % t["ttl"],
                   "net.ipv4.tcp_timestamps=%d" % t["timestamps"],
                   "net.ipv4.tcp_window_scaling=%d" % t["window_scaling"],
                   "net.ipv4.tcp_sack=%d" % t["sack"]]
        if t.get("rmem_max"):
            sysctls.append("net.ipv4.tcp_rmem='4096 131072 %d'" % t["rmem_max"])
        batch = ["addr add %s/24 dev eth0" % s.link4,
                 "addr add %s/64 dev eth0 nodad" % s.link6]
        for a in s.addresses:
            batch.append("addr add %s/%s dev eth0%s" %
                         ((a, 32, "") if ":" not in a else (a, 128, " nodad")))
        # The gateway's route carries the site's MSS and initial window; with one address it is
        # also the preferred source, for clients that cannot bind one (Chromium).
        attrs4, attrs6 = "", ""
        if t.get("advmss"):
            attrs4 += " advmss %d" % t["advmss"]
            attrs6 += " advmss %d" % (t["advmss"] - 20)
        if t.get("initrwnd"):
            attrs4 += " initrwnd %d" % t["initrwnd"]
            attrs6 += " initrwnd %d" % t["initrwnd"]
        v4 = [a for a in s.addresses if ":" not in a]
        v6 = [a for a in s.addresses if ":" in a]
        if len(v4) == 1:
            attrs4 += " src %s" % v4[0]
        if len(v6) == 1:
            attrs6 += " src %s" % v6[0]
        batch.append("route replace %s/32 dev eth0%s" % (swlab.GW4, attrs4))
        batch.append("route replace %s/128 dev eth0%s" % (swlab.GW6, attrs6))
        return "\n".join([
            "sysctl -qw " + " ".join(sysctls),
            "ip link set lo up", "ip link set eth0 up",
            "ethtool -K eth0 tso off gso off gro off tx off >/dev/null",
            "ip -batch - <<'EOF'\n%s\nEOF" % "\n".join(batch)])

    # --- clients --------------------------------------------------------------------------
    def _driver(self, site, stack_name):
        with self._drivers_lock:
            return self._drivers[(site.name, stack_name)]

    def _start_drivers(self):
        """One driver per (site, stack) that a group runs on a Python or Node client."""
        with self._drivers_lock:
            for name, g in self.groups.items():
                for s in g["sites"]:
                    st = self.stack_of(name, s)
                    if STACKS[st]["tool"] in ("python", "node") and \
                            (s.name, st) not in self._drivers:
                        self._drivers[(s.name, st)] = Driver(self, s, st)
            for d in self._drivers.values():
                if d.reader is None:
                    d.wait_ready()

    def connect(self, group, account, site, src, requests):
        """One connection of `account` from `src` (an address of `site`) with the group's
        client stack; returns {"ok", "port", "error"}."""
        stack_name = self.stack_of(group, site)
        stack = STACKS[stack_name]
        key = self.accounts[account]["key"]
        dst = swlab.GW6 if ":" in src else swlab.GW4
        tool = stack["tool"]
        try:
            if tool in ("python", "node"):
                cmd = {"src": src, "dst": dst, "key": key, "requests": requests}
                if stack.get("agent"):
                    cmd["agent"] = stack["agent"]
                res = self._driver(site, stack_name).call(cmd)
                if res.get("ok") and any(st != 200 for st in res.get("statuses", [])):
                    res = {"ok": False, "error": "HTTP %s" % res["statuses"]}
                return res
            if tool == "curl":
                return self._curl(site, stack, src, dst, key, requests)
            if tool == "openssl":
                return self._openssl(site, stack, src, dst, key, requests)
            if tool == "chromium":
                return self._chromium_load(site, account, key)
        except subprocess.TimeoutExpired:
            return {"ok": False, "error": "%s timed out" % tool}
        raise ValueError("unknown tool %r" % tool)

    def _curl(self, site, stack, src, dst, key, requests):
        cmd = ["ip", "netns", "exec", site.ns, "curl", "-s", "--cacert",
               self.ca, "--interface", src, "--resolve",
               "%s:443:%s" % (swlab.SNI, "[%s]" % dst if ":" in dst else dst),
               "-H", "Authorization: Bearer " + key, "-w", "%{http_code} %{local_port}\\n",
               "--max-time", "10"] + stack["args"]
        if stack.get("agent"):
            cmd += ["-A", stack["agent"]]
        cmd += ["-o", "/dev/null", "https://%s/v1/complete" % swlab.SNI] * requests
        r = _run(cmd, check=False, timeout=CONNECT_TIMEOUT)
        lines = [ln.split() for ln in r.stdout.splitlines() if ln.strip()]
        if r.returncode != 0 or len(lines) != requests or any(ln[0] != "200" for ln in lines):
            return {"ok": False, "error": "curl exit %d: %s %s" %
                    (r.returncode, r.stdout.strip(), r.stderr.strip()[:200])}
        return {"ok": True, "port": int(lines[0][1])}

    def _openssl(self, site, stack, src, dst, key, requests):
        req = ""
        for i in range(requests):
            req += ("POST /v1/complete HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                    "User-Agent: %s\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                    "%s\r\n{}" % (swlab.SNI, key, stack.get("agent") or "openssl",
                                  "Connection: close\r\n" if i == requests - 1 else ""))
        # -quiet implies -ign_eof: s_client waits for nginx to close after the last response.
        cmd = ["ip", "netns", "exec", site.ns, "openssl", "s_client", "-quiet",
               "-connect", "%s:443" % dst, "-bind", src, "-servername", swlab.SNI,
               "-CAfile", self.ca, "-verify_return_error"] + stack["args"]
        r = _run(cmd, check=False, input=req, timeout=CONNECT_TIMEOUT)
        got = r.stdout.count("HTTP/1.1 200")
        if got != requests:
            return {"ok": False, "error": "openssl: %d of %d responses 200 (exit %d): %s" %
                    (got, requests, r.returncode, r.stderr.strip()[-200:])}
        return {"ok": True, "port": None}

    def _chromium_load(self, site, account, key):
        # A browser cannot bind a source address: the site's route gives it its one address.
        profile = os.path.join(self.tmp, "chromium", account)
        os.makedirs(profile, exist_ok=True)
        cmd = ["ip", "netns", "exec", site.ns, "chromium", "--headless", "--no-sandbox",
               "--disable-gpu", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-quic",
               "--disable-features=OptimizationHints,MediaRouter,Translate",
               "--ignore-certificate-errors", "--user-data-dir=" + profile,
               "--host-resolver-rules=MAP %s %s" % (swlab.SNI, swlab.GW4),
               "--dump-dom", "https://%s/app?key=%s" % (swlab.SNI, key)]
        with self._chromium:
            r = _run(cmd, check=False, timeout=60)
        if '"account":"%s"' % account not in r.stdout.replace("&quot;", '"'):
            return {"ok": False, "error": "chromium exit %d: %s" %
                    (r.returncode, (r.stdout + r.stderr).strip()[-300:])}
        return {"ok": True, "port": None}

    # --- traffic --------------------------------------------------------------------------
    def _record(self, group, account, site, src, requests, res):
        kind = self.groups[group]["spec"]["kind"]
        rec = {"t": time.time(), "group": group, "kind": kind, "account": account,
               "site": site.name, "src": src, "port": res.get("port"), "requests": requests,
               "ok": bool(res.get("ok")), "error": res.get("error")}
        with self._stats_lock:
            self.connections.append(rec)
            g = self._stats["groups"][group]
            g["connections"] += 1
            g["requests"] += requests if rec["ok"] else 0
            if not rec["ok"]:
                g["failures"] += 1
            self._seen[group].add(account)
        self._log.write(json.dumps(rec) + "\n")

    def _requests(self, rng, g):
        lo, hi = g["spec"].get("requests", [1, 1])
        return rng.randint(lo, hi)

    def _farm_worker(self, name, w, t0, t_end, stop, counter):
        g = self.groups[name]
        spec = g["spec"]
        pace = spec["pace"]
        workers = pace.get("workers", 1)
        accounts = g["accounts"]
        pool = [(s, a) for s in g["sites"] for a in s.addresses]
        rng = random.Random("%d/%s/%d" % (self.seed, name, w))
        # Machine pace: a connection every `max_interval` seconds per worker, faster when that
        # is needed for `rounds` passes over the accounts within 70% of the run.
        per_worker = max(1, (len(accounts) * pace.get("rounds", 3) + workers - 1) // workers)
        interval = max(0.05, min(pace.get("max_interval", 0.5), 0.7 * (t_end - t0) / per_worker))
        k = 0
        while not stop.is_set():
            t = t0 + (k + w / workers) * interval
            if t >= t_end:
                return
            if stop.wait(max(0.0, t - time.time())):
                return
            with self._stats_lock:
                i = counter[0]
                counter[0] += 1
            account = accounts[i % len(accounts)]
            site, src = rng.choice(pool)
            n = self._requests(rng, g)
            self._record(name, account, site, src, n, self.connect(name, account, site, src, n))
            k += 1

    def _human(self, name, account, t0, t_end, stop):
        g = self.groups[name]
        spec = g["spec"]
        rng = random.Random("%d/%s/%s" % (self.seed, name, account))
        lo, hi = spec["pace"].get("pause", [3.0, 12.0])
        limit = spec.get("max_connections")
        # The first visit early in the run, so every user is seen even in a short run.
        t = t0 + rng.uniform(0, min(10.0, 0.3 * (t_end - t0)))
        made = 0
        while not stop.is_set() and t < t_end and (limit is None or made < limit):
            if stop.wait(max(0.0, t - time.time())):
                return
            if g["spec"]["assign"] == "roam":
                site = rng.choice(g["sites"])
                src = site.addresses[0]
            else:
                site, src = g["own"][account]
            n = self._requests(rng, g)
            self._record(name, account, site, src, n, self.connect(name, account, site, src, n))
            made += 1
            t = time.time() + rng.uniform(lo, hi)

    def _snapshot(self, t0, duration):
        with self._stats_lock:
            groups = {}
            for n, g in self._stats["groups"].items():
                groups[n] = dict(g, accounts=len(self._seen[n]))
        return {"elapsed": round(time.time() - t0, 1), "duration": duration,
                "connections": sum(g["connections"] for g in groups.values()),
                "failures": sum(g["failures"] for g in groups.values()), "groups": groups}

    def run_traffic(self, duration_s, progress=None, drain_s=CONNECT_TIMEOUT + 5):
        """Runs the scenario's clients for `duration_s` seconds (connections still open at the
        end finish, for at most `drain_s` more); calls progress(stats) about every second.
        Returns the final stats. May be called again (the counts go on)."""
        if self._stats is None:
            self._stats = {"groups": {n: {"kind": g["spec"]["kind"], "role": g["spec"]["role"],
                                          "connections": 0, "failures": 0, "requests": 0}
                                      for n, g in self.groups.items()}}
            self._seen = {n: set() for n in self.groups}
        self._log = open(os.path.join(self.tmp, "connections.jsonl"), "a", buffering=1)
        self._start_drivers()  # first: their start-up is not the traffic's
        stop = threading.Event()
        t0 = time.time() + 0.5
        t_end = t0 + duration_s
        threads = []
        for name, g in self.groups.items():
            spec = g["spec"]
            if spec["pace"]["kind"] == "machine":
                counter = [0]
                for w in range(spec["pace"].get("workers", 1)):
                    threads.append(threading.Thread(
                        target=self._farm_worker, args=(name, w, t0, t_end, stop, counter),
                        name="%s/%d" % (name, w), daemon=True))
            else:
                for a in g["accounts"]:
                    threads.append(threading.Thread(target=self._human,
                                                    args=(name, a, t0, t_end, stop),
                                                    name="%s/%s" % (name, a), daemon=True))
        try:
            for th in threads:
                th.start()
            deadline = t_end + drain_s
            while any(th.is_alive() for th in threads) and time.time() < deadline:
                time.sleep(1.0)
                if progress:
                    progress(self._snapshot(t0, duration_s))
        finally:
            stop.set()
            for th in threads:
                th.join(timeout=max(0.1, CONNECT_TIMEOUT))
            with self._drivers_lock:
                for d in self._drivers.values():
                    d.stop()
                self._drivers.clear()
            self._log.close()
        return self._snapshot(t0, duration_s)
