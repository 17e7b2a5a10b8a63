#!/usr/bin/env python3
"""Prepares bench/gen_handshakes.py's capture for the eBPF load test (ebpf_load_test.sh).

usage: ebpf_load_prepare.py IN.pcap OUT.pcap

1. Re-segments: the generator writes each server flight as one segment of 2-7.5 KB (what a
   capture with GRO shows). A real server with TSO/GSO off sends MTU-sized segments, and so must
   the replay: a frame longer than the veth's MTU is not sent at all, and one a packet socket
   builds beyond a page keeps only its Ethernet header in the skb's linear data, where the TC
   program cannot read the IP header (see the test's report). Frames above 1514 bytes become
   segments of at most 1500 bytes of IP packet (sequence numbers, lengths, checksums
   recomputed; PSH on the last one). Nothing else changes.
2. Counts what the kernel programs must do with the file: connections (client SYNs), flow
   ends (both FINs), and the packet events bpf/sybilwatch.bpf.c selects, by the same rules
   (`tcp_packet`, `tcp_first_flight`, mirrored below). Ring-buffer drops do not change the
   kernel's flow state, so packet_events + packet_drops must equal that number exactly.

Writes OUT.pcap and OUT.pcap.json (last, so its presence marks a complete file). Standard
library only; about 15 s for 100,000 connections.
"""
import json
import os
import struct
import sys

MAX_IP = 1500  # the veth's MTU
ETH = 14

# Kernel constants (bpf/sybilwatch.h).
HELLO_WINDOW = 16384
MAX_HELLO_SEGMENTS = 64
MAX_PREAMBLE = 8
START, PREAMBLE, IN, DONE = range(4)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SERVICE_PORTS = (443, 8443)  # sybilwatch capture's default ports


def word_sum(b):
    x = int.from_bytes(b, "big")
    return (x << 8 if len(b) & 1 else x) % 0xFFFF


def checksum(s):
    return (0xFFFF - s % 0xFFFF) % 0xFFFF


def split_frame(frame):
    """The frame as segments of at most MAX_IP bytes of IP packet, or [frame]."""
    if len(frame) <= ETH + MAX_IP:
        return [frame]
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0800:
        ihl = (frame[ETH] & 0x0F) * 4
        if frame[ETH + 9] != 6:
            raise ValueError("oversized non-TCP frame")
        l4 = ETH + ihl
    elif ethertype == 0x86DD:
        if frame[ETH + 6] != 6:
            raise ValueError("oversized IPv6 frame with extension headers")
        ihl = 40
        l4 = ETH + 40
    else:
        raise ValueError("oversized non-IP frame")
    doff = (frame[l4 + 12] >> 4) * 4
    head = frame[:l4 + doff]
    payload = frame[l4 + doff:]
    seq = struct.unpack_from("!I", frame, l4 + 4)[0]
    flags = frame[l4 + 13]
    chunk = MAX_IP - ihl - doff
    out = []
    for off in range(0, len(payload), chunk):
        part = payload[off:off + chunk]
        last = off + chunk >= len(payload)
        h = bytearray(head)
        tcp_len = doff + len(part)
        if ethertype == 0x0800:
            struct.pack_into("!H", h, ETH + 2, ihl + tcp_len)
            ident = (struct.unpack_from("!H", frame, ETH + 4)[0] + off // chunk) & 0xFFFF
            struct.pack_into("!H", h, ETH + 4, ident)
            struct.pack_into("!H", h, ETH + 10, 0)
            struct.pack_into("!H", h, ETH + 10, checksum(word_sum(bytes(h[ETH:l4]))))
            pseudo = word_sum(frame[ETH + 12:ETH + 20]) + 6 + tcp_len
        else:
            struct.pack_into("!H", h, ETH + 4, tcp_len)
            pseudo = word_sum(frame[ETH + 8:ETH + 40]) + 6 + tcp_len
        struct.pack_into("!I", h, l4 + 4, (seq + off) & 0xFFFFFFFF)
        h[l4 + 13] = flags if last else flags & ~(PSH | FIN)
        struct.pack_into("!H", h, l4 + 16, 0)
        ck = checksum(pseudo + word_sum(bytes(h[l4:])) + word_sum(part))
        struct.pack_into("!H", h, l4 + 16, ck)
        out.append(bytes(h) + part)
    return out


# ---- the kernel's selection rules (bpf/sybilwatch.bpf.c), TCP only: the file has no UDP ----

class Dir:
    __slots__ = ("base", "known", "mode", "hello_end", "sent", "preamble", "head")

    def __init__(self):
        self.base = 0
        self.known = False
        self.mode = START
        self.hello_end = 0
        self.sent = 0
        self.preamble = 0
        self.head = b""  # the stream's first bytes, up to a record header (the test's view)


class Flow:
    __slots__ = ("syn", "synack", "ack_sent", "client_fin", "server_fin", "client_isn", "dirs",
                 "past_hello")

    def __init__(self):
        self.syn = self.synack = self.ack_sent = self.client_fin = self.server_fin = False
        self.past_hello = False
        self.client_isn = 0
        self.dirs = (Dir(), Dir())


def starts_hello(b, hs_type):
    """(is a hello record start, hello end or 0): the kernel's starts_hello."""
    n = len(b)
    if n < 6 or b[0] != 22 or b[1] != 3 or b[5] != hs_type:
        return False, 0
    end = 0
    if n >= 9:
        record = b[3] << 8 | b[4]
        msg = b[6] << 16 | b[7] << 8 | b[8]
        if msg + 4 <= record:
            end = 9 + msg
    return True, end


def first_flight(f, client, seq, head):
    d = f.dirs[0 if client else 1]
    if d.mode == DONE:
        return False
    if not d.known:
        d.base = seq
        d.known = True
    hs_type = 1 if client else 2
    rel = (seq - d.base) & 0xFFFFFFFF
    send = False
    if d.mode == START:
        if rel != 0:
            send = rel < HELLO_WINDOW
        else:
            ok, end = starts_hello(head, hs_type)
            if ok or (0 < len(head) < 6 and head[0] == 22):
                d.mode = IN
                d.hello_end = end
            else:
                d.mode = PREAMBLE
                d.preamble = 1
            send = True
    elif d.mode == PREAMBLE:
        ok, end = starts_hello(head, hs_type)
        if ok:
            d.base = seq
            d.mode = IN
            d.hello_end = end
        else:
            d.preamble += 1
            if d.preamble > MAX_PREAMBLE:
                d.mode = DONE
        send = True
    elif d.mode == IN:
        send = rel < (d.hello_end or HELLO_WINDOW)
    if send:
        d.sent += 1
        if d.sent >= MAX_HELLO_SEGMENTS:
            d.mode = DONE
    return send


class Kernel:
    """Counts the events tcp_packet() would submit (or drop) for each frame."""

    def __init__(self):
        self.flows = {}
        self.packet_events = 0
        self.flow_ends = 0
        self.flows_created = 0
        self.matched = 0
        self.client_frames = 0
        # Flows where the kernel sends a client segment lying wholly after the ClientHello: it
        # could not see the hello's end (a first segment of fewer than 9 bytes leaves the
        # handshake length unread) and sends the first 16 KiB. If such a segment's event is
        # dropped, the flow counts in hello_lost_flows although its hello arrived whole.
        self.flows_sending_past_hello = 0

    def frame(self, fr):
        ethertype = struct.unpack_from("!H", fr, 12)[0]
        if ethertype == 0x0800:
            ihl = (fr[ETH] & 0x0F) * 4
            if fr[ETH + 9] != 6:
                return
            l4 = ETH + ihl
            ip_end = ETH + struct.unpack_from("!H", fr, ETH + 2)[0]
            src, dst = fr[ETH + 12:ETH + 16], fr[ETH + 16:ETH + 20]
        elif ethertype == 0x86DD:
            if fr[ETH + 6] != 6:
                return
            l4 = ETH + 40
            ip_end = ETH + 40 + struct.unpack_from("!H", fr, ETH + 4)[0]
            src, dst = fr[ETH + 8:ETH + 24], fr[ETH + 24:ETH + 40]
        else:
            return
        sport, dport, seq = struct.unpack_from("!HHI", fr, l4)
        if dport in SERVICE_PORTS:
            client = True
            key = (src, sport, dst, dport)
            self.client_frames += 1
        elif sport in SERVICE_PORTS:
            client = False
            key = (dst, dport, src, sport)
        else:
            return
        self.matched += 1
        flags = fr[l4 + 13]
        payload_off = l4 + (fr[l4 + 12] >> 4) * 4
        payload_len = max(0, ip_end - payload_off)
        syn, ack = bool(flags & SYN), bool(flags & ACK)
        f = self.flows.get(key)
        send = False
        if syn and not ack and client:
            if f and f.syn and f.client_isn == seq:
                send = True
            else:
                if f:
                    self.end(key)
                f = self.new(key)
                f.client_isn = seq
                f.syn = True
                d = f.dirs[0]
                d.base = (seq + 1) & 0xFFFFFFFF
                d.known = True
                send = True
        elif syn and ack and not client:
            if not f:
                f = self.new(key)
            if not f.synack:
                f.synack = True
                d = f.dirs[1]
                d.base = (seq + 1) & 0xFFFFFFFF
                d.known = True
            send = True
        elif not f:
            return
        elif client and ack and not syn and f.synack and not f.ack_sent:
            f.ack_sent = True
            send = True
        if payload_len > 0:
            head = fr[payload_off:payload_off + min(payload_len, 9)]
            d = f.dirs[0 if client else 1]
            if client and d.known and len(d.head) < 5 and ((seq - d.base) & 0xFFFFFFFF) == len(d.head):
                d.head += fr[payload_off:payload_off + min(payload_len, 5 - len(d.head))]
            if first_flight(f, client, seq, head):
                send = True
                rel = (seq - d.base) & 0xFFFFFFFF
                # The generator's hellos are one record each: it ends 5 + its length in.
                if (client and len(d.head) == 5 and d.head[0] == 22 and not f.past_hello
                        and rel >= 5 + (d.head[3] << 8 | d.head[4])):
                    f.past_hello = True
                    self.flows_sending_past_hello += 1
        if send:
            self.packet_events += 1
        if flags & RST:
            self.end(key)
            return
        if flags & FIN:
            if client:
                f.client_fin = True
            else:
                f.server_fin = True
            if f.client_fin and f.server_fin:
                self.end(key)

    def new(self, key):
        f = Flow()
        self.flows[key] = f
        self.flows_created += 1
        return f

    def end(self, key):
        self.flow_ends += 1
        del self.flows[key]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: ebpf_load_prepare.py IN.pcap OUT.pcap")
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, linktype = struct.unpack_from("<IHHiIII", data, 0)
    if magic != 0xA1B2C3D4 or linktype != 1:
        sys.exit(f"ebpf_load_prepare: {src}: not a little-endian microsecond Ethernet pcap")
    kernel = Kernel()
    frames_in = frames_out = split = syns = 0
    max_len = 0
    record = struct.Struct("<IIII")
    tmp = dst + ".tmp"
    with open(tmp, "wb") as out:
        out.write(data[:24])
        buf = []
        pos = 24
        end = len(data)
        while pos < end:
            sec, usec, incl, orig = record.unpack_from(data, pos)
            if incl != orig:
                sys.exit(f"ebpf_load_prepare: {src}: truncated frame at offset {pos}")
            fr = data[pos + 16:pos + 16 + incl]
            pos += 16 + incl
            frames_in += 1
            parts = split_frame(fr)
            split += len(parts) > 1
            for p in parts:
                buf.append(record.pack(sec, usec, len(p), len(p)))
                buf.append(p)
                kernel.frame(p)
                max_len = max(max_len, len(p))
            frames_out += len(parts)
            if len(buf) > 8192:
                out.write(b"".join(buf))
                buf.clear()
        out.write(b"".join(buf))
    syns = kernel.flows_created  # every flow of this file opens with its client's SYN
    manifest = {
        "source": os.path.basename(src),
        "frames_in": frames_in,
        "frames": frames_out,
        "frames_split": split,
        "max_frame": max_len,
        "connections": syns,
        "matched": kernel.matched,
        "client_frames": kernel.client_frames,
        "flows_created": kernel.flows_created,
        "flow_ends": kernel.flow_ends,
        "flows_left_open": len(kernel.flows),
        "packet_events": kernel.packet_events,
        "flows_sending_past_hello": kernel.flows_sending_past_hello,
    }
    os.replace(tmp, dst)
    with open(dst + ".json.tmp", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(dst + ".json.tmp", dst + ".json")
    print("ebpf_load_prepare: " + json.dumps(manifest), file=sys.stderr)


if __name__ == "__main__":
    main()
