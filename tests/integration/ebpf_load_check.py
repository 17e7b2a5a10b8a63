#!/usr/bin/env python3
"""Checks an eBPF load run (ebpf_load_test.sh): the counts must add up.

usage: ebpf_load_check.py --reference REF.jsonl --expect PCAP.json --lines EBPF.jsonl
                          --stats EBPF.stats --replay TCPREPLAY.log [--expect-drops]

PCAP.json is ebpf_load_prepare.py's count of what the kernel programs must do with the file
tcpreplay sent; REF.jsonl is `sybilwatch fingerprint` of that file (the same engine on the same
bytes through the pcap path); EBPF.jsonl / EBPF.stats what `sybilwatch capture --ebpf --stats`
printed. --expect-drops: the run paused the consumer, so events must have been dropped.

What "accounted" means. Ring-buffer drops change no kernel state (the flow map is updated
before the event is reserved), so the kernel's side is exact whatever the load:
  K1 packets == matched == frames sent: the programs ran on every frame, each a TCP packet of
     port 443 whose headers they could read (the namespace has no other traffic);
  K2 flows_created == connections, insert_failures == evictions == 0 (about 1000 connections
     are open at once: the 65536-entry map never fills);
  K3 flow_end_events + flow_end_drops == connections (each ends with both FINs, once);
  K4 packet_events + packet_drops == the events the selection rules give for this file.
On the output side, every printed line is a connection of the file, at most once, and every
field it has equals the reference's (a drop may remove a field, never change one). A
connection's ja4 is printed iff every ClientHello segment event of it reached userspace, so
with packet_drops == 0 the output is exact: all connections printed, each with its ja4. With
drops, each missing piece of a line is the loss of a packet event the output identifies:
  syn_ts absent      its SYN event        synack_ts absent  its SYN-ACK event
  ja4 absent         >= 1 ClientHello segment event
  ja4s absent        its ServerHello event (one segment: the file's are whole in the first one)
and a connection with no line lost at least its SYN, a ClientHello segment and its ServerHello
(any one of them would have made the engine report it). Their sum is a lower bound of
packet_drops that must hold. It is not an equality because the counters cannot say which
events were lost: the handshake ACK's loss is invisible in the output (the engine times JA4L-C
from the next client segment), and a two-segment hello may have lost one segment or both. An
exact per-connection identity (lines with ja4 + connections whose hello was lost == N) needs a
kernel counter of connections with a lost ClientHello event, counted once per flow.
"""
import argparse
import json
import re
import sys

# Each computed from one packet's bytes: equal to the reference's whenever the eBPF line has it.
EQUAL = ("ja4", "ja4_r", "ja4_o", "ja4_ro", "ja3", "ja3_full", "ja4s", "ja4s_r", "ja4t", "ja4ts",
         "tcp_sig", "sni", "alpn", "client_ttl", "server_ttl")
# The negotiated version needs the ServerHello; without it the engine reports the client's
# highest offered one (Observation::tls_version), which may differ.
EQUAL_WITH_SERVER_HELLO = ("tls_version",)


def read_stats(path):
    with open(path) as f:
        lines = [line for line in f if line.startswith("ebpf:")]
    if len(lines) != 1:
        raise SystemExit(f"ebpf_load_check: {path}: expected one 'ebpf:' counters line, found "
                         f"{len(lines)}:\n" + open(path).read())
    return {k: int(v) for k, v in (kv.split("=") for kv in lines[0].split()[1:])}


def read_replay(path):
    text = open(path).read()
    actual = re.search(r"Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds", text)
    rated = re.search(r"Rated: ([\d.]+) Bps, ([\d.]+) Mbps, ([\d.]+) pps", text)
    if not actual or not rated:
        raise SystemExit(f"ebpf_load_check: cannot read tcpreplay's summary:\n{text}")
    return {
        "packets": int(actual.group(1)), "bytes": int(actual.group(2)),
        "seconds": float(actual.group(3)), "pps": float(rated.group(3)),
        "mbps": float(rated.group(2)),
        "successful": sum(int(n) for n in re.findall(r"Successful packets:\s+(\d+)", text)),
        "failed": sum(int(n) for n in re.findall(r"Failed packets:\s+(\d+)", text)),
    }


def key(c):
    return (c["src"], c["src_port"], c["dst"], c["dst_port"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("reference", "expect", "lines", "stats", "replay"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--expect-drops", action="store_true")
    args = ap.parse_args()
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    expect = json.load(open(args.expect))
    stats = read_stats(args.stats)
    replay = read_replay(args.replay)
    n = expect["connections"]

    ref = {}
    with open(args.reference) as f:
        for line in f:
            c = json.loads(line)
            ref[key(c)] = c
    check(len(ref) == n and all("ja4" in c and "ja4s" in c for c in ref.values()),
          f"reference: {len(ref)} connections, "
          f"{sum('ja4' in c for c in ref.values())} with ja4, "
          f"{sum('ja4s' in c for c in ref.values())} with ja4s; the file has {n}")

    # Replay: every frame went out.
    check(replay["packets"] == expect["frames"] and replay["successful"] == expect["frames"]
          and replay["failed"] == 0,
          f"tcpreplay: {replay['packets']} packets, {replay['successful']} successful, "
          f"{replay['failed']} failed; the file has {expect['frames']}")

    # Kernel side (K1-K4).
    check(stats["packets"] == expect["frames"],
          f"K1: packets={stats['packets']}, frames replayed={expect['frames']}")
    check(stats["matched"] == expect["matched"] == expect["frames"],
          f"K1: matched={stats['matched']}, frames of port 443={expect['matched']}")
    check(stats["flows_created"] == n and stats["insert_failures"] == 0
          and stats["evictions"] == 0,
          f"K2: flows_created={stats['flows_created']} insert_failures="
          f"{stats['insert_failures']} evictions={stats['evictions']}; connections={n}")
    check(stats["flow_end_events"] + stats["flow_end_drops"] == expect["flow_ends"] == n,
          f"K3: flow_end_events + flow_end_drops = {stats['flow_end_events']} + "
          f"{stats['flow_end_drops']} != {expect['flow_ends']} connections that ended")
    check(stats["packet_events"] + stats["packet_drops"] == expect["packet_events"],
          f"K4: packet_events + packet_drops = {stats['packet_events']} + "
          f"{stats['packet_drops']} = {stats['packet_events'] + stats['packet_drops']}, "
          f"the selection rules give {expect['packet_events']}")

    # Output side.
    lines = {}
    count = 0
    with open(args.lines) as f:
        for line in f:
            if not line.strip():
                continue
            count += 1
            c = json.loads(line)
            k = key(c)
            if c.get("transport") != "tcp" or k not in ref:
                failures.append(f"a line for no connection of the file: {line[:300]}")
                continue
            if k in lines:
                failures.append(f"two lines for {k}")
            lines[k] = c
            r = ref[k]
            for field in EQUAL + (EQUAL_WITH_SERVER_HELLO if "ja4s" in c else ()):
                if field in c and c[field] != r.get(field):
                    failures.append(f"{k}: {field}: eBPF {c[field]!r}, pcap {r.get(field)!r}")
    check(stats["observations"] == count,
          f"observations={stats['observations']} but {count} lines were printed")

    # (src, src_port, ja4) of eBPF equals the reference's minus the connections without ja4.
    with_ja4 = {k for k, c in lines.items() if "ja4" in c}
    ebpf_set = {(k[0], k[1], lines[k]["ja4"]) for k in with_ja4}
    ref_set = {(k[0], k[1], c["ja4"]) for k, c in ref.items()}
    missing = set(ref) - with_ja4
    check(ebpf_set == ref_set - {(k[0], k[1], ref[k]["ja4"]) for k in missing},
          "the (src, src_port, ja4) set differs from the reference's beyond the missing ones")
    unprinted = set(ref) - set(lines)
    evident = {
        "syn": sum("syn_ts" not in c for c in lines.values()),
        "synack": sum("synack_ts" not in c for c in lines.values()),
        "client_hello": sum("ja4" not in c for c in lines.values()),
        "server_hello": sum("ja4s" not in c for c in lines.values()),
        "unprinted": 3 * len(unprinted),
    }
    lower = sum(evident.values())
    if args.expect_drops:
        check(stats["packet_drops"] > 0 and stats["flow_end_drops"] > 0,
              "the consumer was paused, yet no packet or flow-end event was dropped")
    # Every connection's hello either reached the engine (a line with ja4) or the kernel
    # counted its flow as having lost a client first-flight event; and nothing was lost between
    # the ring buffer and the engine. Exact but for the flows whose hello's end the kernel could
    # not read (a first segment of under 9 bytes): it sends their client segments past the
    # hello too, and a lost one of those counts the flow although its hello arrived whole.
    over = len(with_ja4) + stats["hello_lost_flows"] - n
    slack = expect.get("flows_sending_past_hello", 0)
    check(0 <= over <= slack,
          f"lines with ja4 {len(with_ja4)} + hello_lost_flows {stats['hello_lost_flows']} = "
          f"{n} connections + {over}; at most {slack} flows could count a lost event past "
          f"their hello")
    check(stats["events_received"] == stats["packet_events"] + stats["flow_end_events"],
          f"events_received={stats['events_received']} but the kernel submitted "
          f"{stats['packet_events']} + {stats['flow_end_events']}")
    check(stats["malformed_events"] == 0, f"malformed_events={stats['malformed_events']}")
    if stats["packet_drops"] == 0:
        check(not missing, f"packet_drops=0 but {len(missing)} connections have no ja4")
        check(lower == 0, f"packet_drops=0 but lines lack fields: {evident}")
    else:
        check(lower <= stats["packet_drops"],
              f"events evidently lost {lower} ({evident}) > packet_drops="
              f"{stats['packet_drops']}: a loss the counters do not account for")
    # A line emitted at shutdown (end "open") without both hellos: its FIN event was lost.
    end_lost = sum(1 for c in lines.values()
                   if c.get("end") == "open" and not ("ja4" in c and "ja4s" in c))
    check(end_lost <= stats["flow_end_drops"],
          f"{end_lost} incomplete lines ended 'open' (flow end not received) > flow_end_drops="
          f"{stats['flow_end_drops']}")

    print(f"ebpf_load_check: replayed {replay['packets']} frames ({replay['bytes']} bytes) in "
          f"{replay['seconds']:.2f} s: {replay['pps']:.0f} pps, {replay['mbps']:.0f} Mbps")
    print("ebpf_load_check: kernel " + " ".join(f"{k}={v}" for k, v in stats.items()))
    print(f"ebpf_load_check: expected packet_events+drops={expect['packet_events']} "
          f"flow_ends={expect['flow_ends']} connections={n}")
    print(f"ebpf_load_check: {count} lines, {len(with_ja4)} with ja4 ({n - len(with_ja4)} "
          f"without: {len(missing) - len(unprinted)} printed without, {len(unprinted)} not "
          f"printed); evident event losses {lower} {evident} <= packet_drops="
          f"{stats['packet_drops']}; incomplete lines without flow end {end_lost} <= "
          f"flow_end_drops={stats['flow_end_drops']}")
    if failures:
        print(f"ebpf_load_check: FAIL ({len(failures)}):", file=sys.stderr)
        for f in failures[:50]:
            print("  " + f, file=sys.stderr)
        return 1
    print("ebpf_load_check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
