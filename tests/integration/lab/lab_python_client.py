#!/usr/bin/env python3
"""Lab client: Python's ssl + http.client, three requests on one kept-alive connection.

usage: lab_python_client.py SERVER_IP PORT SNI SOURCE_IP CA_FILE
The connection goes to SERVER_IP while SNI and Host carry the test name, so no resolver is used.
"""
import http.client
import socket
import ssl
import sys


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection whose TCP peer is a fixed address: self.host stays the SNI/Host name."""

    def __init__(self, sni, port, address, source_ip, context):
        super().__init__(sni, port, context=context)
        self._address = address
        self._source_ip = source_ip
        self._ctx = context

    def connect(self):
        sock = socket.create_connection((self._address, self.port), timeout=10,
                                        source_address=(self._source_ip, 0))
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def main():
    address, port, sni, source_ip, ca_file = sys.argv[1:6]
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.set_alpn_protocols(["http/1.1"])
    conn = PinnedHTTPSConnection(sni, int(port), address, source_ip, ctx)
    for path in ("/", "/small.txt", "/"):
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit(f"python client: {path}: HTTP {resp.status}")
        print(f"python client: {path}: {len(body)} bytes, {conn.sock.version()}")
    conn.close()


if __name__ == "__main__":
    main()
