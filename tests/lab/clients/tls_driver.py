#!/usr/bin/env python3
"""Lab client driver: Python's ssl + http.client, one TLS connection per command.

A long-lived process in a client namespace, so that a scripted client or an SDK-like user costs
a connection and not an interpreter start per request. The TLS configuration (the JA4 it
produces) is fixed for the process by --profile; the orchestrator (tests/lab/farm_lab.py) sends
one JSON command per line on stdin and reads one JSON result per line on stdout:

  -> {"id": 7, "src": "10.220.1.5", "dst": "10.214.0.1", "key": "sk-...", "requests": 2,
      "agent": "python-requests/2.31.0"}
  <- {"id": 7, "ok": true, "port": 40312, "statuses": [200, 200]}
  <- {"id": 8, "ok": false, "error": "timed out"}

Commands run concurrently (a thread each); results come back in completion order.

--profile is a JSON object; absent keys keep Python's defaults (ssl.create_default_context):
  ciphers     OpenSSL cipher string for TLS <= 1.2 (SSLContext.set_ciphers)
  alpn        list of ALPN protocols (only "http/1.1" makes sense for http.client)
  curve       one ECDH group (SSLContext.set_ecdh_curve: the supported_groups list becomes it)
  no_ticket   true: no session_ticket extension (OP_NO_TICKET)
  max_tls12   true: TLS 1.2 at most

usage: tls_driver.py --ca CA_FILE --sni NAME [--profile JSON]
"""
import argparse
import http.client
import json
import socket
import ssl
import sys
import threading

BODY = b'{"model":"lab-1","prompt":"summarise the attached text","max_tokens":64}'


def make_context(ca, profile):
    ctx = ssl.create_default_context(cafile=ca)
    if "ciphers" in profile:
        ctx.set_ciphers(profile["ciphers"])
    if "alpn" in profile:
        ctx.set_alpn_protocols(profile["alpn"])
    if "curve" in profile:
        ctx.set_ecdh_curve(profile["curve"])
    if profile.get("no_ticket"):
        ctx.options |= ssl.OP_NO_TICKET
    if profile.get("max_tls12"):
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection to a fixed address from a fixed source: self.host stays the SNI name."""

    def __init__(self, sni, address, source_ip, context):
        super().__init__(sni, 443, context=context, timeout=10)
        self._address = address
        self._source_ip = source_ip
        self._ctx = context

    def connect(self):
        sock = socket.create_connection((self._address, 443), timeout=10,
                                        source_address=(self._source_ip, 0))
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def one_connection(ctx, sni, cmd):
    conn = PinnedHTTPSConnection(sni, cmd["dst"], cmd["src"], ctx)
    statuses = []
    try:
        conn.connect()
        port = conn.sock.getsockname()[1]
        headers = {"Authorization": "Bearer " + cmd["key"], "Content-Type": "application/json",
                   "User-Agent": cmd.get("agent", "python-lab/1.0")}
        for _ in range(int(cmd.get("requests", 1))):
            conn.request("POST", cmd.get("path", "/v1/complete"), body=BODY, headers=headers)
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
        return {"ok": True, "port": port, "statuses": statuses}
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca", required=True)
    ap.add_argument("--sni", required=True)
    ap.add_argument("--profile", default="{}")
    args = ap.parse_args()
    ctx = make_context(args.ca, json.loads(args.profile))
    out_lock = threading.Lock()

    def run(cmd):
        try:
            res = one_connection(ctx, args.sni, cmd)
        except Exception as e:  # any failure is the connection's result, not the driver's end
            res = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
        res["id"] = cmd.get("id")
        with out_lock:
            sys.stdout.write(json.dumps(res) + "\n")
            sys.stdout.flush()

    print(json.dumps({"ready": True, "openssl": ssl.OPENSSL_VERSION}), flush=True)
    for line in sys.stdin:
        if line.strip():
            threading.Thread(target=run, args=(json.loads(line),), daemon=True).start()


if __name__ == "__main__":
    main()
