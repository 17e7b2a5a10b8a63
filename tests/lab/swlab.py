"""The gateway lab: an API edge host and its clients in network namespaces made and removed here.

A gateway namespace runs nginx terminating TLS (HTTP/1.1 and HTTP/2) in front of a tiny API
that checks `Authorization: Bearer <key>` and writes the attribution log of sybilwatchd's
contract (one JSON line per request: ts, client_ip, client_port, server_port, account,
user_agent, request_id). A client namespace holds addresses in several /24 networks (IPv4) and
a /64 (IPv6), all routed over one veth pair; nothing else is reachable. sybilwatchd runs in the
gateway namespace on the gateway's veth.

Used by the daemon's integration tests, and meant for the demo and benchmarks too:

    with Lab(workdir) as lab:
        lab.add_accounts({"key-1": "acct-1"})
        lab.start_gateway()
        d = lab.start_daemon(sybilwatchd, extra_config)
        lab.curl("10.215.1.10", "key-1")

Reusable pieces for the tests, the demo and benchmarks: `start_rsyslog()` (a syslog receiver on
the gateway's loopback, the SIEM of the lab), `start_capture(path)` / `stop_capture()` (tcpdump
of the gateway's veth). farm_lab.py builds many client namespaces on this (FarmLab).

Everything the lab starts it stops, and its namespaces are deleted on success, failure and
signals (the caller turns SIGTERM/SIGINT into exceptions with `install_signal_exits()`).
"""

import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

GW4 = "10.214.0.1"
GW6 = "fd00:5714::1"
SNI = "api.sybilwatch.test"
# Client networks: several /24s (proxy rotation, NAT) plus the IPv6 /64.
CLIENT_NETS4 = ["10.215.%d.0/24" % i for i in range(1, 9)]
CLIENT_NET6 = "fd00:5715::/64"
RSYSLOGD = "/usr/sbin/rsyslogd"
# Namespaces of this module: sw<role>-<creator pid>[-<name>] (farm_lab.py adds swsw, swns).
NS_RE = re.compile(r"^sw(gw|cl|sw|ns)-(\d+)(-[A-Za-z0-9_.-]+)?$")


def install_signal_exits():
    """SIGTERM/SIGINT raise SystemExit, so `with Lab(...)` cleans up on them too."""

    def _exit(sig, _frame):
        raise SystemExit(128 + sig)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)


def skip(name, why):
    """Exit 77 (ctest: skipped); under CI=true a skip is a failure."""
    if os.environ.get("CI") == "true":
        print("%s: FAIL: %s (CI=true: a skip is a failure)" % (name, why), file=sys.stderr)
        sys.exit(1)
    print("%s: SKIP: %s" % (name, why), file=sys.stderr)
    sys.exit(77)


def fail(name, msg):
    """The test named `name` failed: say why and exit 1."""
    print("%s: FAIL: %s" % (name, msg), file=sys.stderr)
    sys.exit(1)


def wait_for(name, pred, timeout, what, log=lambda: ""):
    """Polls pred() every 100 ms; fails the test after `timeout` seconds (with log())."""
    t_end = time.time() + timeout
    while time.time() < t_end:
        if pred():
            return
        time.sleep(0.1)
    fail(name, "timed out waiting for %s\n%s" % (what, log()))


def require_root_and_tools(name, tools=("ip", "ethtool", "nginx", "openssl", "curl", "tc")):
    if os.geteuid() != 0:
        skip(name, "needs root (network namespaces, BPF)")
    for t in tools:
        if shutil.which(t) is None:
            skip(name, "%s is not installed (make deps)" % t)


def _run(cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


class Daemon:
    """A sybilwatchd process in the gateway namespace, with its config and paths."""

    def __init__(self, lab, binary, config_text, name):
        self.lab = lab
        self.binary = binary
        self.dir = os.path.join(lab.tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.config_path = os.path.join(self.dir, "sybilwatchd.yaml")
        self.control = os.path.join(self.dir, "control.sock")
        self.attr_socket = os.path.join(self.dir, "attribution.sock")
        self.log_path = os.path.join(self.dir, "sybilwatchd.log")
        self.stdout_path = os.path.join(self.dir, "stdout.jsonl")
        self.ring = "swlab-%d-%s" % (os.getpid(), name)
        self.write_config(config_text)
        self.proc = None

    def base_config(self):
        return {
            "interface": self.lab.gw_if,
            "control": self.control,
            "attr": self.attr_socket,
            "tail": self.lab.access_log,
            "ring": self.ring,
            "state": os.path.join(self.dir, "state"),
            "findings": os.path.join(self.dir, "findings.jsonl"),
        }

    def write_config(self, extra):
        c = self.base_config()
        text = (
            "capture:\n  interface: %(interface)s\n  mode: ebpf\n  ports: [443]\n"
            "identity:\n  socket:\n    path: %(attr)s\n  tail:\n    path: %(tail)s\n"
            "  join:\n    wait: 2s\n"
            "ring:\n  name: %(ring)s\n"
            "output:\n  findings: %(findings)s\n  stdout: true\n"
            "metrics:\n  listen: \"\"\n"
            "control:\n  socket: %(control)s\n"
            "state:\n  dir: %(state)s\n  save_interval: 2s\n"
            "log:\n  level: info\n" % c)
        text = merge_yaml_text(text, extra)
        with open(self.config_path, "w") as f:
            f.write(text)

    def start(self, env=None):
        e = dict(os.environ)
        e.update(env or {})
        log = open(self.log_path, "a")
        out = open(self.stdout_path, "a")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", self.lab.gw_ns, self.binary, "--config", self.config_path],
            stdout=out, stderr=log, env=e, stdin=subprocess.DEVNULL)
        self.lab.procs.append(self.proc)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        t_end = time.time() + timeout
        while time.time() < t_end:
            if self.proc.poll() is not None:
                raise RuntimeError("sybilwatchd exited with %d:\n%s" %
                                   (self.proc.returncode, self.log()))
            try:
                st = self.status()
                if st.get("capture"):
                    return st
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError("sybilwatchd not ready in %ds:\n%s" % (timeout, self.log()))

    def request(self, command, timeout=5):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.control)
            s.sendall(command.encode() + b"\n")
            s.shutdown(socket.SHUT_WR)
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode()
        finally:
            s.close()

    def status(self):
        return json.loads(self.request("status"))

    def metric(self, key, default=0):
        return self.status()["metrics"].get(key, default)

    def send_signal(self, sig):
        # `ip netns exec` execs the daemon: the Popen pid is sybilwatchd itself.
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("sybilwatchd did not stop within %ds" % timeout)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""


def merge_yaml_text(base, extra):
    """Appends `extra` top-level sections, replacing base sections of the same name."""
    if not extra:
        return base
    names = {line.split(":")[0] for line in extra.splitlines()
             if line and not line[0].isspace() and ":" in line}
    out, skipping = [], False
    for line in base.splitlines():
        if line and not line[0].isspace():
            skipping = line.split(":")[0] in names
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n" + extra.rstrip("\n") + "\n"


class Lab:
    def __init__(self, workdir):
        self.tag = "%d" % os.getpid()
        self.gw_ns = "swgw-" + self.tag
        self.cli_ns = "swcl-" + self.tag
        self.gw_if = "swg" + self.tag
        self.cli_if = "swc" + self.tag
        self.tmp = os.path.abspath(workdir)
        self.procs = []
        self.keys = {}
        self.client_addrs4 = []
        self.client_addrs6 = []
        self.access_log = os.path.join(self.tmp, "nginx", "access.jsonl")
        self.nginx = None
        self.namespaces = [self.cli_ns, self.gw_ns]  # deleted by close(), in this order
        self.capture = None  # (tcpdump Popen, path) while start_capture() runs
        self.rsyslog = None  # (rsyslogd Popen, port, received file)

    # --- setup and teardown --------------------------------------------------------------
    def __enter__(self):
        os.makedirs(self.tmp, exist_ok=True)
        remove_stale_namespaces()
        try:
            self._network()
            self._certificates()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    p.terminate()
                    p.wait(10)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    p.kill()
                    p.wait()
        for ns in self.namespaces:
            for pid in _run(["ip", "netns", "pids", ns], check=False).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _run(["ip", "netns", "del", ns], check=False)

    def gw(self, *cmd, check=True, **kw):
        return _run(["ip", "netns", "exec", self.gw_ns, *cmd], check=check, **kw)

    def cli(self, *cmd, check=True, **kw):
        return _run(["ip", "netns", "exec", self.cli_ns, *cmd], check=check, **kw)

    def _network(self):
        _run(["ip", "netns", "add", self.gw_ns])
        _run(["ip", "netns", "add", self.cli_ns])
        _run(["ip", "link", "add", self.gw_if, "type", "veth", "peer", "name", self.cli_if])
        _run(["ip", "link", "set", self.gw_if, "netns", self.gw_ns])
        _run(["ip", "link", "set", self.cli_if, "netns", self.cli_ns])
        for ns_run, ifname in ((self.gw, self.gw_if), (self.cli, self.cli_if)):
            ns_run("ip", "link", "set", "lo", "up")
            ns_run("ip", "link", "set", ifname, "up")
            # Real segments on the wire, as a NIC would send them (see DESIGN.md).
            ns_run("ethtool", "-K", ifname, "tso", "off", "gso", "off", "gro", "off", "tx", "off")
        self.gw("ip", "addr", "add", GW4 + "/24", "dev", self.gw_if)
        self.gw("ip", "-6", "addr", "add", GW6 + "/64", "dev", self.gw_if, "nodad")
        self.cli("ip", "addr", "add", "10.214.0.2/24", "dev", self.cli_if)
        self.cli("ip", "-6", "addr", "add", "fd00:5714::2/64", "dev", self.cli_if, "nodad")
        # Client addresses in other networks reach the gateway over the same link.
        for net in CLIENT_NETS4:
            self.gw("ip", "route", "add", net, "dev", self.gw_if)
        self.gw("ip", "-6", "route", "add", CLIENT_NET6, "dev", self.gw_if)

    def add_client_address(self, addr):
        """Puts `addr` (in one of the client networks) on the client side; returns it."""
        ip = ipaddress.ip_address(addr)
        if ip.version == 4:
            if addr not in self.client_addrs4:
                self.cli("ip", "addr", "add", addr + "/32", "dev", self.cli_if)
                self.client_addrs4.append(addr)
        elif addr not in self.client_addrs6:
            self.cli("ip", "-6", "addr", "add", addr + "/128", "dev", self.cli_if, "nodad")
            self.client_addrs6.append(addr)
        return addr

    def _certificates(self):
        d = self.tmp
        q = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
                        "/CN=sybilwatch lab CA", "-addext", "basicConstraints=critical,CA:TRUE",
                        "-keyout", d + "/ca.key", "-out", d + "/ca.crt"], **q)
        subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + SNI,
                        "-keyout", d + "/server.key", "-out", d + "/server.csr"], **q)
        with open(d + "/server.ext", "w") as f:
            f.write("basicConstraints=CA:FALSE\nsubjectAltName=DNS:%s,IP:%s,IP:%s\n" %
                    (SNI, GW4, GW6))
        subprocess.run(["openssl", "x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.crt",
                        "-CAkey", d + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile",
                        d + "/server.ext", "-out", d + "/server.crt"], **q)
        self.ca = d + "/ca.crt"

    # --- the gateway --------------------------------------------------------------------
    def add_accounts(self, keys):
        """keys: {api_key: account}. Takes effect at start_gateway() or reload_gateway()."""
        self.keys.update(keys)

    def _nginx_conf(self):
        n = os.path.join(self.tmp, "nginx")
        os.makedirs(n, exist_ok=True)
        with open(os.path.join(n, "keys.map"), "w") as f:
            for key, account in sorted(self.keys.items()):
                f.write('"Bearer %s" "%s";\n' % (key, account))
        with open(os.path.join(n, "keys_query.map"), "w") as f:
            for key, account in sorted(self.keys.items()):
                f.write('"%s" "%s";\n' % (key, account))
        # The attribution log: the daemon's contract, one JSON object per request.
        return """daemon off;
user root;
worker_processes 1;
pid {n}/nginx.pid;
error_log {n}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  map_hash_bucket_size 128;
  map_hash_max_size 16384;
  client_body_temp_path {n}/client_body;
  proxy_temp_path {n}/proxy;
  fastcgi_temp_path {n}/fastcgi;
  uwsgi_temp_path {n}/uwsgi;
  scgi_temp_path {n}/scgi;
  map $http_authorization $account_header {{
    default "";
    include {n}/keys.map;
  }}
  # A browser has no API header: the web app's page link carries the key (?key=...).
  map $arg_key $account_query {{
    default "";
    include {n}/keys_query.map;
  }}
  map "$account_header|$account_query" $account {{
    default "";
    "~^(?<h>[^|]+)[|]" $h;
    "~^[|](?<q>.+)$" $q;
  }}
  log_format sybilwatch escape=json
    '{{"ts":$msec,"client_ip":"$remote_addr","client_port":$remote_port,'
    '"server_port":$server_port,"account":"$account","user_agent":"$http_user_agent",'
    '"request_id":"$request_id"}}';
  keepalive_timeout 5s;
  server {{
    listen {gw4}:443 ssl http2;
    listen [{gw6}]:443 ssl http2;
    server_name {sni};
    ssl_certificate {d}/server.crt;
    ssl_certificate_key {d}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    access_log {log} sybilwatch;
    location / {{
      default_type application/json;
      if ($account = "") {{ return 401 '{{"error":"unknown API key"}}\\n'; }}
      return 200 '{{"id":"$request_id","account":"$account"}}\\n';
    }}
  }}
}}
""".format(n=n, d=self.tmp, gw4=GW4, gw6=GW6, sni=SNI, log=self.access_log)

    def start_gateway(self):
        n = os.path.join(self.tmp, "nginx")
        conf = os.path.join(n, "nginx.conf")
        text = self._nginx_conf()
        with open(conf, "w") as f:
            f.write(text)
        self.nginx = subprocess.Popen(
            ["ip", "netns", "exec", self.gw_ns, "nginx", "-e", n + "/error.log", "-c", conf,
             "-p", n + "/"], stdin=subprocess.DEVNULL)
        self.procs.append(self.nginx)
        for _ in range(200):
            if "LISTEN" in self.gw("ss", "-Hltn", "sport = :443").stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("nginx did not start:\n" + open(n + "/error.log").read())

    def our_filters(self, direction):
        """How many of sybilwatchd's TC filters ("ingress"/"egress") the gateway's veth has."""
        out = self.gw("tc", "filter", "show", "dev", self.gw_if, direction, check=False).stdout
        return out.count("name sw_%s " % direction)

    def reopen_gateway_log(self):
        """What logrotate's postrotate does: nginx reopens its log files (SIGUSR1)."""
        os.kill(self.nginx.pid, signal.SIGUSR1)

    def start_daemon(self, binary, extra_config="", name="d", env=None):
        return Daemon(self, binary, extra_config, name).start(env)

    # --- the SIEM and the capture ---------------------------------------------------------
    def free_port(self):
        """A free TCP port on the gateway's loopback."""
        return int(self.gw(sys.executable, "-c", "import socket; s = socket.socket(); "
                           "s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])").stdout)

    def start_rsyslog(self, received=None, timeout=15, port=None):
        """rsyslogd (imtcp, RFC 6587 framing) on `port` (default: a free one) of the gateway's
        loopback, where the daemon runs; every message's raw text goes to `received`, one per
        line. Returns (port, received path); a syslog sink's address is "127.0.0.1:PORT".
        self.rsyslog is (process, port, received path)."""
        if not os.access(RSYSLOGD, os.X_OK):
            raise RuntimeError("%s is not installed (make deps: rsyslog)" % RSYSLOGD)
        work = os.path.join(self.tmp, "rsyslog")
        os.makedirs(work, exist_ok=True)
        received = received or os.path.join(work, "received.log")
        port = port or self.free_port()
        conf = os.path.join(work, "rsyslog.conf")
        with open(conf, "w") as f:
            f.write('global(workDirectory="%s" maxMessageSize="1m")\n'
                    'module(load="imtcp")\n'
                    'input(type="imtcp" address="127.0.0.1" port="%d" ruleset="sw")\n'
                    'template(name="raw" type="string" string="%%rawmsg%%\\n")\n'
                    'ruleset(name="sw") {\n'
                    '  action(type="omfile" file="%s" template="raw")\n'
                    '}\n' % (work, port, received))
        err = os.path.join(work, "rsyslogd.err")
        with open(err, "w") as ef:
            proc = subprocess.Popen(["ip", "netns", "exec", self.gw_ns, RSYSLOGD, "-n", "-f",
                                     conf, "-i", os.path.join(work, "rsyslog.pid")],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=ef)
        self.procs.append(proc)
        t_end = time.time() + timeout
        while ":%d " % port not in self.gw("ss", "-ltnH", check=False).stdout:
            if proc.poll() is not None or time.time() > t_end:
                raise RuntimeError("rsyslogd did not listen on 127.0.0.1:%d:\n%s" %
                                   (port, open(err).read()))
            time.sleep(0.05)
        self.rsyslog = (proc, port, received)
        return port, received

    def start_capture(self, path, bpf_filter="tcp port 443", timeout=15):
        """tcpdump of the gateway's veth (whole packets) into `path` until stop_capture()."""
        err = path + ".err"
        with open(err, "w") as ef:
            proc = subprocess.Popen(["ip", "netns", "exec", self.gw_ns, "tcpdump", "-i",
                                     self.gw_if, "-s", "0", "-U", "-n", "-Z", "root", "-w", path,
                                     bpf_filter], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=ef)
        self.procs.append(proc)
        t_end = time.time() + timeout
        while "listening on" not in open(err).read():
            if proc.poll() is not None or time.time() > t_end:
                raise RuntimeError("tcpdump did not start:\n" + open(err).read())
            time.sleep(0.05)
        self.capture = (proc, path)
        return path

    def stop_capture(self, settle=0.5, timeout=15):
        """Stops tcpdump once the file has stopped growing (it may lag behind on a loaded
        machine, and SIGTERM drops what it has not written yet); returns the path."""
        if self.capture is None:
            return None
        proc, path = self.capture
        last, t_end = -1, time.time() + timeout
        while time.time() < t_end:
            time.sleep(settle)
            size = os.path.getsize(path) if os.path.exists(path) else 0
            if size == last:
                break
            last = size
        proc.terminate()
        proc.wait(10)
        self.capture = None
        return path

    # --- clients ------------------------------------------------------------------------
    def curl(self, src, key, path="/v1/complete", http2=False, requests=1, agent=None):
        """One connection from `src` with `requests` requests; returns (status, local_port)."""
        self.add_client_address(src)
        cmd = ["curl", "-s", "-o", "/dev/null", "--cacert", self.ca, "--interface", src,
               "--resolve", "%s:443:%s" % (SNI, "[%s]" % GW6 if ":" in src else GW4),
               "-H", "Authorization: Bearer " + key, "-w", "%{http_code} %{local_port}\\n",
               "--http2" if http2 else "--http1.1", "--max-time", "10"]
        if agent:
            cmd += ["-A", agent]
        url = "https://%s:443%s" % (SNI, path)
        cmd += [url] * requests
        out = self.cli(*cmd).stdout.split()
        return int(out[0]), int(out[1])


def remove_stale_namespaces():
    """A run killed with SIGKILL leaves its namespaces (and its daemons' shared-memory rings):
    remove those whose creator is gone, with whatever still runs inside the namespaces."""
    for f in os.listdir("/dev/shm") if os.path.isdir("/dev/shm") else []:
        m = re.match(r"^swlab-(\d+)-.*-observations$", f)
        if m and not os.path.exists("/proc/" + m.group(1)):
            try:
                os.unlink(os.path.join("/dev/shm", f))
            except OSError:
                pass
    out = _run(["ip", "netns", "list"], check=False).stdout
    for line in out.splitlines():
        m = NS_RE.match(line.split()[0] if line.split() else "")
        if m:
            name, pid = m.group(0), m.group(2)
            if not os.path.exists("/proc/" + pid):
                for p in _run(["ip", "netns", "pids", name], check=False).stdout.split():
                    try:
                        os.kill(int(p), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                _run(["ip", "netns", "del", name], check=False)
