"""The farm lab's scenario, as data: client stacks, TCP stacks, sites and the groups of accounts.

farm_lab.FarmLab builds one network namespace per site and drives the groups' accounts from
them. default_scenario(scale) is the one the end-to-end test and the demo run:

  farms (kind "farm": one automation kit each, driven at machine-like regular intervals,
  every account rotating over the farm's exit addresses in several /24s, /48s for IPv6):
    curl-farm-a     curl with a custom cipher list, curves and HTTP/2      (stack curl-kit)
    curl-farm-b     the same kit and TCP stack and RTT bucket as curl-farm-a; only its
                    networks differ (disjoint): it must still come out as its own cluster
    python-farm     Python ssl with custom ciphers, one curve, no tickets (IPv4 and IPv6)
    node-farm       Node tls with custom ciphers, curves and sigalgs over HTTP/2
    openssl-farm    openssl s_client with custom ciphers, suites, curves and sigalgs
  ordinary users (kind "ordinary": human pauses):
    home-*          curl, Python and Node SDK defaults, one home network each (IPv4, IPv6)
    office-*        an office behind one NAT address: SDK users and headless Chromium
    roaming-user    one legitimate account used from several machines (own network, TCP
                    stack, RTT and client each)
    niche-*         users of a niche app (an UNCOMMON stack, not in the popular lists), each
                    from its own home network with its own TCP stack and RTT: the rules must
                    spare them because nothing links them, not because their JA4 is popular

A site: {"name", "tcp": TCP_PROFILES key, "rtt_ms": the delay of its packets to the gateway (the
middle of a 5 ms bucket of the link rule, e.g. 12.5), "nets4": /24s, "nets6": /48s, "hosts":
addresses per network}. The lab allocates the networks: IPv4 /24s from 10.220.0.0/14, IPv6 /48s
from fd00:5720::/32, in scenario order.

A group: {"name", "kind": "farm"|"ordinary", "role" (one line for a demo), "stack": STACKS key
(or a list: one per site, in the order of "sites"), "sites": [site names], "accounts": N,
"assign": how accounts get addresses, "pace": {...}, "requests": [lo, hi] per connection,
"max_connections": per account (optional)}. Accounts are named GROUP-NN (GROUP when alone).
  assign "rotate":  every connection from a random address of the group's sites (a farm's
                    proxy exits; machine pace: connections at a fixed interval per worker,
                    accounts round-robin, `rounds` passes at least, `workers` in parallel)
  assign "own":     account i keeps the i-th address of the sites (a home network each)
  assign "shared":  every account on the site's first address (users behind one NAT)
  assign "roam":    each connection from a random one of the sites (one account's machines)
  pace {"kind": "machine", "rounds": R, "workers": W, "max_interval": S (default 0.5)} or
       {"kind": "human", "pause": [lo, hi]}

Everything is seeded: the same scenario and seed give the same accounts, keys and addresses.
"""

import hashlib

# TCP stacks of the exit machines, as per-namespace sysctls and route attributes (the SYN's TTL,
# options, MSS and window: the p0f-style tcp_sig). None keeps the kernel's default.
TCP_PROFILES = {
    # A Linux server or proxy exit: TTL 64, MSS, SACK, timestamps, window scale 7.
    "linux": dict(ttl=64, timestamps=1, window_scaling=1, sack=1, rmem_max=6291456,
                  advmss=None, initrwnd=None),
    # Windows 10/11: TTL 128, no timestamps, window scale 8.
    "windows": dict(ttl=128, timestamps=0, window_scaling=1, sack=1, rmem_max=16777216,
                    advmss=None, initrwnd=None),
    # macOS behind a tunnel: TTL 64, MSS 1440, larger scale.
    "macos": dict(ttl=64, timestamps=1, window_scaling=1, sack=1, rmem_max=8388608,
                  advmss=1440, initrwnd=45),
    # An old BSD-like stack: no window scaling, no SACK, MSS 1380.
    "bsd-old": dict(ttl=64, timestamps=1, window_scaling=0, sack=0, rmem_max=None,
                    advmss=1380, initrwnd=None),
    # A home router's NAT or an embedded box: TTL 255, no timestamps, no scaling.
    "router": dict(ttl=255, timestamps=0, window_scaling=0, sack=1, rmem_max=None,
                   advmss=1400, initrwnd=None),
    # A phone on a mobile carrier: MSS 1400, small initial window.
    "android": dict(ttl=64, timestamps=1, window_scaling=1, sack=1, rmem_max=4194304,
                    advmss=1400, initrwnd=20),
}

# Client stacks. "tool" picks the program; the rest configures its TLS (what automation kits do
# to look unlike the defaults, and what makes their JA4 uncommon).
STACKS = {
    # -- farm kits (uncommon) --
    "curl-kit": dict(tool="curl", args=[
        "--http2",
        "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                     "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
        "--tls13-ciphers", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
        "--curves", "X25519:P-256"], agent="Mozilla/5.0 (compatible; fetcher/2.4)"),
    "python-kit": dict(tool="python", profile={
        "ciphers": "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL", "alpn": ["http/1.1"],
        "curve": "prime256v1", "no_ticket": True}, agent="python-httpx/0.27.0"),
    "node-kit": dict(tool="node", profile={
        "http2": True,
        "ciphers": "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                   "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384",
        "ecdhCurve": "X25519:P-384:P-256",
        "sigalgs": "ecdsa_secp256r1_sha256:ecdsa_secp384r1_sha384:rsa_pss_rsae_sha256:"
                   "rsa_pkcs1_sha256"}, agent="axios/1.6.8"),
    "openssl-kit": dict(tool="openssl", args=[
        "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305",
        "-ciphersuites", "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256",
        "-curves", "X25519:secp384r1:prime256v1",
        "-sigalgs", "ECDSA+SHA256:ECDSA+SHA384:RSA-PSS+SHA256",
        "-alpn", "http/1.1", "-no_ticket"], agent="harvest/0.9"),
    # -- a niche app (uncommon, but its users are ordinary) --
    "niche-app": dict(tool="python", profile={
        "ciphers": "ECDHE+AES256:ECDHE+CHACHA20:!SHA1:!aNULL"},
        agent="NoteSync/3.2 (desktop)"),
    # -- popular stacks: the defaults of common tools and SDKs --
    "curl-default": dict(tool="curl", args=[], agent=None),
    "python-sdk": dict(tool="python", profile={"alpn": ["http/1.1"]},
                       agent="OpenAI/Python 1.30.1"),
    "node-sdk": dict(tool="node", profile={}, agent="OpenAI/JS 4.47.1"),
    "chromium": dict(tool="chromium", agent=None),
}


def account_key(name, seed):
    """The API key of an account: stable for a seed, unguessable-looking."""
    return "sk-lab-" + hashlib.sha256(("%s/%d" % (name, seed)).encode()).hexdigest()[:32]


def default_scenario(scale=1.0, seed=7):
    """The e2e test's and demo's scenario. `scale` multiplies the accounts of every group of
    more than one account (at least 12 per farm, so a farm stays above the link rule's 10)."""
    def n(count, least=1):
        return max(least, int(round(count * scale)))

    sites = [
        # Farm exits: one namespace per farm (its exit machines' TCP stack and distance).
        dict(name="farm-curl-a", tcp="linux", rtt_ms=12.5, nets4=4, nets6=0, hosts=3),
        # Same TCP stack and RTT bucket as farm-curl-a: only the networks tell them apart.
        dict(name="farm-curl-b", tcp="linux", rtt_ms=12.5, nets4=4, nets6=0, hosts=3),
        dict(name="farm-python", tcp="windows", rtt_ms=27.5, nets4=3, nets6=2, hosts=3),
        dict(name="farm-node", tcp="macos", rtt_ms=42.5, nets4=4, nets6=0, hosts=3),
        dict(name="farm-openssl", tcp="bsd-old", rtt_ms=17.5, nets4=3, nets6=0, hosts=3),
        # Ordinary users.
        dict(name="homes-a", tcp="windows", rtt_ms=22.5, nets4=n(10), nets6=0, hosts=1),
        dict(name="homes-b", tcp="linux", rtt_ms=32.5, nets4=n(6), nets6=n(4), hosts=1),
        dict(name="office", tcp="router", rtt_ms=7.5, nets4=1, nets6=0, hosts=1),
    ]
    roaming = []
    for i, (tcp, rtt) in enumerate([("windows", 12.5), ("macos", 37.5), ("android", 52.5),
                                    ("linux", 27.5)]):
        roaming.append("machine-%d" % (i + 1))
        sites.append(dict(name="machine-%d" % (i + 1), tcp=tcp, rtt_ms=rtt, nets4=1, nets6=0,
                          hosts=1))
    niche = []
    niche_stacks = [("linux", 12.5), ("windows", 17.5), ("macos", 27.5), ("android", 47.5),
                    ("router", 22.5), ("bsd-old", 32.5), ("windows", 42.5), ("linux", 57.5)]
    for i in range(n(8, 4)):
        tcp, rtt = niche_stacks[i % len(niche_stacks)]
        niche.append("niche-home-%d" % (i + 1))
        sites.append(dict(name=niche[-1], tcp=tcp, rtt_ms=rtt, nets4=1, nets6=0, hosts=1))

    def farm(name, stack, site, accounts, requests=(1, 3), workers=2):
        return dict(name=name, kind="farm", role="account farm on %s" % stack, stack=stack,
                    sites=[site], accounts=n(accounts, 12), assign="rotate",
                    pace=dict(kind="machine", rounds=3, workers=workers),
                    requests=list(requests))

    def users(name, role, stack, sites, accounts, assign, pause=(3.0, 12.0), requests=(1, 4),
              max_connections=None):
        g = dict(name=name, kind="ordinary", role=role, stack=stack, sites=sites,
                 accounts=accounts, assign=assign, pace=dict(kind="human", pause=list(pause)),
                 requests=list(requests))
        if max_connections:
            g["max_connections"] = max_connections
        return g

    homes_a, homes_b = n(10), n(10)
    groups = [
        farm("curl-farm-a", "curl-kit", "farm-curl-a", 30),
        farm("curl-farm-b", "curl-kit", "farm-curl-b", 30),
        farm("python-farm", "python-kit", "farm-python", 25),
        farm("node-farm", "node-kit", "farm-node", 25),
        farm("openssl-farm", "openssl-kit", "farm-openssl", 20, requests=(1, 2), workers=3),
        # homes-a: curl and Python SDK users; homes-b: Node SDK users, some over IPv6.
        users("home-curl", "people running curl at home", "curl-default", ["homes-a"],
              homes_a // 2, "own"),
        users("home-python", "people on the Python SDK at home", "python-sdk", ["homes-a"],
              homes_a - homes_a // 2, "own"),
        users("home-node", "people on the Node SDK at home", "node-sdk", ["homes-b"], homes_b,
              "own"),
        users("office-sdk", "an office behind one NAT address (Python SDK)", "python-sdk",
              ["office"], n(6), "shared"),
        users("office-node", "the same office (Node SDK)", "node-sdk", ["office"], n(4),
              "shared"),
        users("office-curl", "the same office (curl)", "curl-default", ["office"], n(3),
              "shared"),
        users("office-browser", "the same office (headless Chromium)", "chromium", ["office"],
              2, "shared", pause=(5.0, 20.0), max_connections=1),
        users("roaming-user", "one account used from several machines", ["python-sdk",
              "node-sdk", "curl-default", "niche-app"], roaming, 1, "roam", pause=(1.0, 5.0)),
        users("niche-app", "users of a niche app: uncommon stack, each from home", "niche-app",
              niche, len(niche), "own"),
    ]
    return {"seed": seed, "scale": scale, "sites": sites, "groups": groups}


def popular_ja4s(rules_dir):
    """The JA4 values of the pack's popular lists (rules/lists_clients.yaml), without a YAML
    parser: every `- VALUE   # ...` item line of the file."""
    out = set()
    with open(rules_dir.rstrip("/") + "/lists_clients.yaml") as f:
        for line in f:
            s = line.strip()
            if s.startswith("- ") and not s.startswith("- list:"):
                out.add(s[2:].split("#")[0].strip())
    return out
