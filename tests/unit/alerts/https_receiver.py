#!/usr/bin/env python3
"""HTTPS receiver for the HEC and webhook transport tests.

Records every request (path, query, headers, body) as one JSON line, and answers like Splunk's
HTTP Event Collector on /services/collector/event and /services/collector/ack, or like a webhook
endpoint on any other path. Only ever binds 127.0.0.1; the chosen port is written to --port-file
once the socket listens, so the test needs no guessed port.

  --fail-first N      answer 503 to the first N event/webhook requests
  --token T           HEC token expected in "Authorization: Splunk T" (else 403, code 4)
  --ack-pending N     the first N ack polls report the ackId as not yet indexed
  --hmac-key-env VAR  webhook key (from the environment) to check X-Sybilwatch-Signature with;
                      the outcome is recorded as "signature_ok"
Paths starting with /reject answer 400.
"""
import argparse
import hashlib
import hmac
import http.server
import json
import os
import ssl
import sys
import threading
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--token", default="")
    ap.add_argument("--ack-pending", type=int, default=0)
    ap.add_argument("--hmac-key-env", default="")
    args = ap.parse_args()

    key = os.environb.get(args.hmac_key_env.encode(), b"") if args.hmac_key_env else b""
    lock = threading.Lock()
    state = {"failures_left": args.fail_first, "next_ack": 0, "acks": {}, "polls": 0}
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as HEC clients expect

        def log_message(self, fmt, *a):
            pass

        def answer(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            record = {
                "path": url.path,
                "query": url.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            ts = self.headers.get("X-Sybilwatch-Timestamp")
            sig = self.headers.get("X-Sybilwatch-Signature")
            if key and ts is not None and sig is not None:
                want = "sha256=" + hmac.new(key, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
                record["signature_ok"] = hmac.compare_digest(want, sig)
            with lock:
                log.write(json.dumps(record) + "\n")
                if url.path == "/services/collector/ack":
                    return self.ack(body)
                if url.path == "/services/collector/event" and args.token:
                    if self.headers.get("Authorization") != "Splunk " + args.token:
                        return self.answer(403, {"text": "Invalid token", "code": 4})
                if state["failures_left"] > 0:
                    state["failures_left"] -= 1
                    return self.answer(503, {"text": "Server is busy", "code": 9})
                if url.path.startswith("/reject"):
                    return self.answer(400, {"error": "unsupported finding"})
                if url.path == "/services/collector/event":
                    return self.event(body)
                return self.answer(200, {"ok": True})

        def event(self, body):
            text = body.decode("utf-8")
            dec = json.JSONDecoder()
            pos, n = 0, 0
            while pos < len(text):
                while pos < len(text) and text[pos].isspace():
                    pos += 1
                if pos >= len(text):
                    break
                try:
                    obj, pos = dec.raw_decode(text, pos)
                except ValueError:
                    obj = None
                bad = (not isinstance(obj, dict) or "event" not in obj or
                       (isinstance(obj["event"], dict) and obj["event"].get("poison")))
                if bad:
                    return self.answer(400, {"text": "Invalid data format", "code": 6,
                                             "invalid-event-number": n})
                n += 1
            if n == 0:
                return self.answer(400, {"text": "No data", "code": 5})
            if self.headers.get("X-Splunk-Request-Channel"):
                ack_id = state["next_ack"]
                state["next_ack"] += 1
                state["acks"][ack_id] = False
                return self.answer(200, {"text": "Success", "code": 0, "ackId": ack_id})
            return self.answer(200, {"text": "Success", "code": 0})

        def ack(self, body):
            channel = self.headers.get("X-Splunk-Request-Channel")
            if not channel:
                return self.answer(400, {"text": "Data channel is missing", "code": 10})
            state["polls"] += 1
            ids = json.loads(body or b"{}").get("acks", [])
            done = state["polls"] > args.ack_pending
            result = {}
            for i in ids:
                if i in state["acks"]:
                    state["acks"][i] = state["acks"][i] or done
                    result[str(i)] = state["acks"][i]
                else:
                    result[str(i)] = False
            return self.answer(200, {"acks": result})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
