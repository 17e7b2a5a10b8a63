#!/usr/bin/env python3
"""A delay line between network interfaces: what `tc qdisc ... netem delay` would do, for
kernels built without sch_netem (and without sch_fq, which would allow an eBPF EDT delay).

Each --pair CLIENT:UPLINK:MS joins two interfaces of this namespace (neither has an address):
every frame received on CLIENT is sent on UPLINK MS milliseconds later, and every frame received
on UPLINK is sent on CLIENT at once. farm_lab.py puts a client namespace's veth peer on CLIENT
and a bridge port's veth peer on UPLINK, so a site's packets towards the gateway arrive MS late
and the gateway measures MS as the site's round-trip time (SYN to handshake ACK). Order is
kept per direction (one constant delay per pair).

It runs with real-time priority when it may (so the delay holds on a busy 2-core machine) and
prints "ready" on stdout once every socket is bound. On SIGUSR1, and on SIGTERM/SIGINT before it
exits, it prints its counters as one JSON line on stdout: frames per direction, and how late the
delayed frames were sent (max and >1 ms), so a test can tell a late frame from a wrong setup.

usage: delay_line.py --pair CLIENT:UPLINK:MS [--pair ...]     (root, in the namespace)
"""
import argparse
import gc
import heapq
import json
import os
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
PACKET_IGNORE_OUTGOING = 23  # linux/if_packet.h: our own sends are not read back
SO_RCVBUFFORCE = 33
SO_SNDBUFFORCE = 32
SOL_PACKET = 263


def open_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.setblocking(False)
    for opt, val in ((SO_RCVBUFFORCE, 8 << 20), (SO_SNDBUFFORCE, 8 << 20)):
        try:
            s.setsockopt(socket.SOL_SOCKET, opt, val)
        except OSError:
            pass
    try:
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    except OSError:
        pass  # older kernels: outgoing frames are skipped by their packet type below
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pair", action="append", required=True)
    args = ap.parse_args()
    gc.disable()  # no reference cycles here, and a collection pause would delay frames
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))
    except (OSError, AttributeError):
        pass  # best effort: the delay is then as good as the scheduler gives
    routes = {}  # fd -> (rx socket, tx socket, delay in s, counter name)
    for p in args.pair:
        client, uplink, ms = p.split(":")
        c, u = open_socket(client), open_socket(uplink)
        # epoll sleeps whole milliseconds, rounded up: frames fall due half a millisecond early
        # so that on average they leave on time.
        routes[c.fileno()] = (c, u, max(0.0001, float(ms) / 1000.0 - 0.0005), "delayed")
        routes[u.fileno()] = (u, c, 0.0, "returned")
    stats = {"delayed": 0, "returned": 0, "send_errors": 0, "late_1ms": 0, "max_late_us": 0}
    stop, report = [], []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: report.append(1))
    poller = select.epoll()
    for fd in routes:
        poller.register(fd, select.EPOLLIN)
    queue = []  # (due, seq, tx socket, frame)
    seq = 0
    print("ready", flush=True)

    def send(tx, frame):
        try:
            tx.send(frame)
        except OSError:
            stats["send_errors"] += 1

    while not stop:
        if report:
            report.clear()
            print(json.dumps(stats), flush=True)
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            due, _, tx, frame = heapq.heappop(queue)
            late = now - due
            if late > 0.001:
                stats["late_1ms"] += 1
            stats["max_late_us"] = max(stats["max_late_us"], int(late * 1e6))
            send(tx, frame)
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 0.5
        try:
            events = poller.poll(timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd, _ in events:
            rx, tx, delay, name = routes[fd]
            while True:
                try:
                    frame, addr = rx.recvfrom(65536)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                stats[name] += 1
                if delay == 0.0:
                    send(tx, frame)
                else:
                    seq += 1
                    heapq.heappush(queue, (now + delay, seq, tx, frame))
    print(json.dumps(stats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
