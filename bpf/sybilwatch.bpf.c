// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sybilwatch kernel side: TC clsact programs on the edge interface (ingress and egress) that
 * select the packets the fingerprints need and hand them to userspace through one ring buffer.
 * The kernel does not fingerprint: userspace feeds the packets to the same decoder, reassembler
 * and TLS/QUIC parsers as a pcap. The kernel keeps per-flow state to know what to send and to
 * count the request/response cadence over the connection's whole life, which it reports in a
 * flow-end event.
 *
 * Passive: the programs never drop, redirect or edit a packet. They return TC_ACT_UNSPEC, not
 * TC_ACT_OK: UNSPEC lets the packet continue AND lets any filter after ours on the same hook
 * run, where OK would end the filter chain for it.
 *
 * Flow state is updated without a lock (an LRU hash value cannot hold a bpf_spin_lock). Each
 * direction of a connection is normally handled on one CPU at a time (RSS/RPS on ingress, the
 * sending socket on egress), and the handshake packets are causally ordered; a race between
 * the two directions can at worst miscount one cadence burst or send a segment twice, which
 * userspace's reassembler tolerates. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sybilwatch.h"

#define TC_ACT_UNSPEC (-1)
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_HOPOPTS 0
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_DSTOPTS 60

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define TLS_HANDSHAKE 22
#define QUIC_V2 0x6b3343cf
#define QUIC_INITIAL 0
#define QUIC_HANDSHAKE 2

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader before load: no Ethernet header (tun, wireguard, ip tunnels). */
const volatile bool sw_l3_device = false;

/* Service ports (host order) → SW_PORT_TCP | SW_PORT_UDP. An array so the lookup is inlined
 * by the verifier: the check every unmonitored packet pays is a load, not a hash. */
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u8);
} sw_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, SW_DEFAULT_MAX_FLOWS);
    __type(key, struct sw_flow_key);
    __type(value, struct sw_flow);
} sw_flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, SW_DEFAULT_RING_BYTES);
} sw_events SEC(".maps");

struct sw_counters {
    __u64 c[SW_CNT_MAX];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct sw_counters);
} sw_counters SEC(".maps");

/* What the header parse found; the flow logic works from this. */
struct sw_pkt {
    struct sw_flow_key key;
    __u32 l3_off;      /* IP header, from skb->data */
    __u32 payload_off; /* L4 payload */
    __u32 payload_len; /* as the IP (or UDP) header declares it */
    __u32 seq;
    __u8 tcp_flags;
    __u8 dir; /* enum sw_dir */
    __u8 tcp; /* TCP (1) or UDP (0) */
};

struct sw_vlan {
    __be16 tci;
    __be16 proto;
};

/* ---- events ---- */

/* One reservation size per class: the verifier wants a constant size. */
#define SW_EMIT_CLASS(N)                                                                         \
    static __always_inline bool emit_##N(struct __sk_buff* skb, __u32 off, __u32 wire, __u8 dir, \
                                         __u64 now, struct sw_counters* cnt) {                   \
        struct {                                                                                 \
            struct sw_event_header hdr;                                                          \
            __u8 data[N];                                                                        \
        }* e = bpf_ringbuf_reserve(&sw_events, sizeof(*e), 0);                                   \
        if (!e) {                                                                                \
            cnt->c[SW_CNT_PACKET_DROPS]++;                                                       \
            return false;                                                                        \
        }                                                                                        \
        __u32 len = wire;                                                                        \
        if (len > N) len = N;                                                                    \
        if (len < 1 || bpf_skb_load_bytes(skb, off, e->data, len) < 0) {                         \
            bpf_ringbuf_discard(e, 0);                                                           \
            return false;                                                                        \
        }                                                                                        \
        e->hdr.type = SW_EVENT_PACKET;                                                           \
        e->hdr.dir = dir;                                                                        \
        e->hdr.cap_len = len;                                                                    \
        e->hdr.wire_len = wire;                                                                  \
        e->hdr.ts_ns = now;                                                                      \
        bpf_ringbuf_submit(e, 0);                                                                \
        cnt->c[SW_CNT_PACKET_EVENTS]++;                                                          \
        return true;                                                                             \
    }

SW_EMIT_CLASS(128)
SW_EMIT_CLASS(1600)
SW_EMIT_CLASS(4096)
SW_EMIT_CLASS(16384)

_Static_assert(SW_CLASS_SMALL == 128 && SW_CLASS_MTU == 1600 && SW_CLASS_LARGE == 4096 &&
                   SW_CLASS_MAX == 16384,
               "emit_N functions follow the class sizes");

/* The packet from its IP header on; false when the event could not be sent. */
static __always_inline bool emit_packet(struct __sk_buff* skb, const struct sw_pkt* p, __u64 now,
                                        struct sw_counters* cnt) {
    const __u32 wire = skb->len - p->l3_off;
    if (wire <= SW_CLASS_SMALL) return emit_128(skb, p->l3_off, wire, p->dir, now, cnt);
    if (wire <= SW_CLASS_MTU) return emit_1600(skb, p->l3_off, wire, p->dir, now, cnt);
    if (wire <= SW_CLASS_LARGE) return emit_4096(skb, p->l3_off, wire, p->dir, now, cnt);
    if (wire > SW_CLASS_MAX) cnt->c[SW_CNT_TRUNCATED]++;
    return emit_16384(skb, p->l3_off, wire, p->dir, now, cnt);
}

/* A client data segment that did not reach userspace (the kernel sends client data only for the
 * first flight) means that TCP connection will have no JA4: counted once per flow, so
 * "observations with a JA4" plus this counter is exactly the number of TLS connections seen.
 * (A lost preamble segment before TLS is counted too although the hello may still arrive; QUIC
 * datagrams are not counted here: a lost one shows as a packet drop only.) */
static __always_inline void hello_lost(struct sw_flow* f, const struct sw_pkt* p,
                                       struct sw_counters* cnt) {
    if (!p->tcp || p->dir != SW_DIR_CLIENT || p->payload_len == 0 ||
        (f->flags & SW_FLOW_HELLO_LOST))
        return;
    f->flags |= SW_FLOW_HELLO_LOST;
    cnt->c[SW_CNT_HELLO_LOST_FLOWS]++;
}

/* Closes the client burst in progress: it is a complete request. */
static __always_inline void close_request(struct sw_cadence* c) {
    if (c->burst_bytes > c->max_request_bytes) c->max_request_bytes = c->burst_bytes;
    if (c->requests == 1 || c->burst_bytes < c->min_request_bytes)
        c->min_request_bytes = c->burst_bytes;
}

/* Reports the flow's end with its cadence and forgets it. */
static __noinline void end_flow(struct sw_flow* f, const struct sw_flow_key* key, __u32 reason,
                                struct sw_counters* cnt) {
    if (f->cadence.burst_dir == 1) close_request(&f->cadence);
    f->cadence.burst_dir = 0;

    struct sw_flow_end_event* e = bpf_ringbuf_reserve(&sw_events, sizeof(*e), 0);
    if (e) {
        e->hdr.type = SW_EVENT_FLOW_END;
        e->hdr.dir = 0;
        e->hdr.cap_len = 0;
        e->hdr.wire_len = 0;
        e->hdr.ts_ns = f->cadence.last_ns;
        __builtin_memcpy(&e->key, key, sizeof(e->key));
        e->reason = reason;
        e->pad = 0;
        __builtin_memcpy(&e->cadence, &f->cadence, sizeof(e->cadence));
        bpf_ringbuf_submit(e, 0);
        cnt->c[SW_CNT_FLOW_END_EVENTS]++;
    } else {
        cnt->c[SW_CNT_FLOW_END_DROPS]++;
    }
    /* Counted only when the entry was there to delete: the loader derives the LRU's silent
     * evictions as created - ended - swept - still in the map. */
    if (bpf_map_delete_elem(&sw_flows, key) == 0) cnt->c[SW_CNT_FLOWS_ENDED]++;
}

/* ---- flow state ---- */

static __always_inline struct sw_flow* create_flow(const struct sw_flow_key* key, __u64 now,
                                                   struct sw_counters* cnt) {
    struct sw_flow init = {};
    init.cadence.first_ns = now;
    init.cadence.last_ns = now;
    long err = bpf_map_update_elem(&sw_flows, key, &init, BPF_NOEXIST);
    if (err == 0) {
        cnt->c[SW_CNT_FLOWS_CREATED]++;
    } else if (err != -17 /* EEXIST: another CPU inserted it first */) {
        cnt->c[SW_CNT_FLOW_INSERT_FAILED]++;
        return NULL;
    }
    return bpf_map_lookup_elem(&sw_flows, key);
}

static __always_inline void add_gap(struct sw_cadence* c, __u64 gap_us) {
    c->gap_count++;
    c->gap_sum_us += gap_us;
    const __u64 g = gap_us > 0xffffffffULL ? 0xffffffffULL : gap_us;
    const __u64 sq = g * g;
    c->gap_sumsq_lo += sq;
    if (c->gap_sumsq_lo < sq) c->gap_sumsq_hi++;
    if (c->gap_count == 1 || gap_us < c->gap_min_us) c->gap_min_us = gap_us;
    if (gap_us > c->gap_max_us) c->gap_max_us = gap_us;
}

/* Time: bpf_ktime_get_ns costs more than the rest of an established flow's packet (about 30 ns
 * on a VM), so the precise clock is read only where it matters: for packet events (JA4L and
 * handshake timing), a new flow, and the start of a request (cadence gaps). Other packets only
 * move last_ns (for the idle sweep and the duration) by the coarse clock, which is the same
 * CLOCK_MONOTONIC at tick resolution. `*now` is 0 until read. */
static __always_inline __u64 precise_now(__u64* now) {
    if (!*now) *now = bpf_ktime_get_ns();
    return *now;
}

/* The coarse clock moves once per tick, when jiffies does, but reading it is a helper call
 * (about 3 ns of an established flow's ~60 on a VM) where bpf_jiffies64 is one inlined load. So
 * it is read only when the tick changed since this flow's last read: on a busy flow most
 * packets of a tick skip it, at the price of last_ns lagging by at most one tick (4 ms at
 * HZ=250; idle timeouts are minutes). */
static __always_inline void touch(struct sw_flow* f, __u64 now) {
    const __u32 tick = (__u32)bpf_jiffies64();
    if (!now) {
        if (tick == f->touch_tick) return;
        now = bpf_ktime_get_coarse_ns();
    }
    f->touch_tick = tick;
    if (now > f->cadence.last_ns) f->cadence.last_ns = now;
}

/* fingerprint::Engine::update_cadence, in the kernel. */
static __always_inline void update_cadence(struct sw_cadence* c, __u8 dir, __u32 len,
                                           __u64* clock) {
    const __u8 burst = dir == SW_DIR_CLIENT ? 1 : 2;
    if (dir == SW_DIR_CLIENT)
        c->client_bytes += len;
    else
        c->server_bytes += len;
    if (c->burst_dir != burst) {
        if (c->burst_dir == 1) close_request(c);
        c->burst_dir = burst;
        c->burst_bytes = 0;
        if (dir == SW_DIR_CLIENT) {
            const __u64 now = precise_now(clock);
            if (c->requests > 0 && now >= c->last_request_ns)
                add_gap(c, (now - c->last_request_ns) / 1000);
            c->requests++;
            c->last_request_ns = now;
        } else {
            c->responses++;
        }
    }
    c->burst_bytes += len;
}

/* Up to n (≤ 9) payload bytes into b (zeroed first); how many were read. */
static __always_inline __u32 payload_head(struct __sk_buff* skb, const struct sw_pkt* p, __u8* b,
                                          __u32 n) {
    __builtin_memset(b, 0, 9);
    if (n > p->payload_len) n = p->payload_len;
    if (n > 9) n = 9;
    if (n < 1 || bpf_skb_load_bytes(skb, p->payload_off, b, n) < 0) return 0;
    return n;
}

/* A TLS handshake record carrying a ClientHello (1) or ServerHello (2) starts the payload:
 * the same test as the engine's starts_hello. Sets *end to the hello message's end (relative
 * to the record start) when the message fits its record, else 0 (unknown: the window rule). */
static __always_inline bool starts_hello(const __u8* b, __u32 n, __u8 type, __u32* end) {
    *end = 0;
    if (n < 6 || b[0] != TLS_HANDSHAKE || b[1] != 3 || b[5] != type) return false;
    if (n >= 9) {
        const __u32 record = ((__u32)b[3] << 8) | b[4];
        const __u32 msg = ((__u32)b[6] << 16) | ((__u32)b[7] << 8) | b[8];
        if (msg + 4 <= record) *end = 5 + 4 + msg;
    }
    return true;
}

/* Whether this TCP data segment belongs to its direction's first flight (the hello, or a
 * plaintext preamble before it), following the engine's feed_hello rules. Out-of-order and
 * retransmitted segments inside the hello are sent too: userspace reassembles. */
static __always_inline bool tcp_first_flight(struct __sk_buff* skb, struct sw_flow* f,
                                             const struct sw_pkt* p) {
    struct sw_dir_state* d = &f->dir[p->dir & 1];
    if (d->mode == SW_HELLO_DONE) return false;
    if (!(d->flags & SW_DIR_BASE_KNOWN)) {
        /* No SYN (or SYN-ACK) seen: the first data segment is offset 0, as in userspace. */
        d->base = p->seq;
        d->flags |= SW_DIR_BASE_KNOWN;
    }
    const __u8 type = p->dir == SW_DIR_CLIENT ? 1 : 2;
    const __u32 rel = p->seq - d->base;
    __u8 b[9];
    __u32 n, end;
    bool send = false;

    switch (d->mode) {
        case SW_HELLO_START:
            if (rel != 0) {
                send = rel < SW_HELLO_WINDOW; /* before offset 0 arrived: out of order */
                break;
            }
            n = payload_head(skb, p, b, 9);
            if (starts_hello(b, n, type, &end) || (n > 0 && n < 6 && b[0] == TLS_HANDSHAKE)) {
                d->mode = SW_HELLO_IN;
                d->hello_end = end;
            } else {
                d->mode = SW_HELLO_PREAMBLE;
                d->preamble = 1;
            }
            send = true;
            break;
        case SW_HELLO_PREAMBLE:
            n = payload_head(skb, p, b, 9);
            if (starts_hello(b, n, type, &end)) {
                d->base = p->seq;
                d->mode = SW_HELLO_IN;
                d->hello_end = end;
            } else if (++d->preamble > SW_MAX_PREAMBLE) {
                d->mode = SW_HELLO_DONE; /* userspace gives up on this one too: send it */
            }
            send = true;
            break;
        case SW_HELLO_IN:
            send = rel < (d->hello_end ? d->hello_end : SW_HELLO_WINDOW);
            break;
    }
    if (send && ++d->sent >= SW_MAX_HELLO_SEGMENTS) d->mode = SW_HELLO_DONE;
    return send;
}

/* QUIC long-header packet type of the datagram's first packet (v1 numbering), or -1. */
static __always_inline int quic_long_type(const __u8* b, __u32 n) {
    if (n < 5 || !(b[0] & 0x80)) return -1;
    const __u32 version = ((__u32)b[1] << 24) | ((__u32)b[2] << 16) | ((__u32)b[3] << 8) | b[4];
    int t = (b[0] >> 4) & 3;
    if (version == QUIC_V2) t = (t + 3) & 3; /* v2: Initial=1, 0-RTT=2, Handshake=3, Retry=0 */
    return t;
}

/* QUIC: the long-header datagrams of the handshake (Initials carry the hellos), and the
 * client's first Handshake packet after the server's, which times JA4L-C. */
static __always_inline bool quic_first_flight(struct __sk_buff* skb, struct sw_flow* f,
                                              const struct sw_pkt* p) {
    struct sw_dir_state* d = &f->dir[p->dir & 1];
    const bool client = p->dir == SW_DIR_CLIENT;
    if (client ? (d->sent >= SW_QUIC_DATAGRAMS && (f->flags & SW_FLOW_QUIC_CLIENT_HS))
               : (d->sent >= SW_QUIC_SERVER_FLIGHT ||
                  (d->sent >= SW_QUIC_DATAGRAMS && (f->flags & SW_FLOW_QUIC_CLIENT_HS))))
        return false;
    __u8 b[9];
    const int type = quic_long_type(b, payload_head(skb, p, b, 5));
    if (type < 0) return false;
    bool send;
    if (client) {
        send = d->sent < SW_QUIC_DATAGRAMS;
        if (type == QUIC_HANDSHAKE && (f->flags & SW_FLOW_QUIC_SERVER_HS) &&
            !(f->flags & SW_FLOW_QUIC_CLIENT_HS)) {
            f->flags |= SW_FLOW_QUIC_CLIENT_HS;
            send = true;
        }
    } else {
        if (type == QUIC_HANDSHAKE) f->flags |= SW_FLOW_QUIC_SERVER_HS;
        /* Every server datagram up to the client's first Handshake packet: the engine times
         * JA4L-C from the last server Handshake packet before it. */
        send = d->sent < SW_QUIC_DATAGRAMS || !(f->flags & SW_FLOW_QUIC_CLIENT_HS);
    }
    if (send) d->sent++;
    return send;
}

/* ---- per packet ---- */

static __always_inline void tcp_packet(struct __sk_buff* skb, struct sw_pkt* p,
                                       struct sw_counters* cnt) {
    __u64 now = 0;
    const __u8 fl = p->tcp_flags;
    const bool syn = fl & TCP_SYN, ack = fl & TCP_ACK;
    const bool client = p->dir == SW_DIR_CLIENT;
    struct sw_flow* f = bpf_map_lookup_elem(&sw_flows, &p->key);
    bool send = false;

    if (syn && !ack && client) {
        if (f && (f->flags & SW_FLOW_SYN) && f->client_isn == p->seq) {
            send = true; /* retransmitted SYN */
        } else {
            if (f) {
                /* Another ISN on a tracked tuple: the earlier connection is over. */
                const bool fin = f->flags & (SW_FLOW_CLIENT_FIN | SW_FLOW_SERVER_FIN);
                end_flow(f, &p->key, fin ? SW_END_FIN : SW_END_IDLE, cnt);
            }
            f = create_flow(&p->key, precise_now(&now), cnt);
            if (!f) return;
            f->client_isn = p->seq;
            f->flags |= SW_FLOW_SYN;
            f->dir[SW_DIR_CLIENT].base = p->seq + 1;
            f->dir[SW_DIR_CLIENT].flags |= SW_DIR_BASE_KNOWN;
            send = true;
        }
    } else if (syn && ack && !client) {
        if (!f) f = create_flow(&p->key, precise_now(&now), cnt); /* the SYN was missed */
        if (!f) return;
        if (!(f->flags & SW_FLOW_SYNACK)) {
            f->flags |= SW_FLOW_SYNACK;
            f->server_isn = p->seq;
            f->dir[SW_DIR_SERVER].base = p->seq + 1;
            f->dir[SW_DIR_SERVER].flags |= SW_DIR_BASE_KNOWN;
        }
        send = true;
    } else if (!f) {
        return; /* not a connection we saw open */
    } else if (client && ack && !syn && (f->flags & SW_FLOW_SYNACK) &&
               !(f->flags & SW_FLOW_ACK_SENT)) {
        f->flags |= SW_FLOW_ACK_SENT; /* the handshake's ACK: JA4L-C */
        send = true;
    }

    if (p->payload_len > 0) {
        update_cadence(&f->cadence, p->dir, p->payload_len, &now);
        if (tcp_first_flight(skb, f, p)) send = true;
    }
    if (send) precise_now(&now);
    touch(f, now);
    if (send && !emit_packet(skb, p, now, cnt)) hello_lost(f, p, cnt);

    if (fl & TCP_RST) {
        end_flow(f, &p->key, SW_END_RST, cnt);
        return;
    }
    if (fl & TCP_FIN) {
        f->flags |= client ? SW_FLOW_CLIENT_FIN : SW_FLOW_SERVER_FIN;
        if ((f->flags & (SW_FLOW_CLIENT_FIN | SW_FLOW_SERVER_FIN)) ==
            (SW_FLOW_CLIENT_FIN | SW_FLOW_SERVER_FIN))
            end_flow(f, &p->key, SW_END_FIN, cnt);
    }
}

static __always_inline void udp_packet(struct __sk_buff* skb, struct sw_pkt* p,
                                       struct sw_counters* cnt) {
    __u64 now = 0;
    struct sw_flow* f = bpf_map_lookup_elem(&sw_flows, &p->key);
    if (!f) {
        /* Only the client's QUIC Initial opens a flow, as in the engine. */
        __u8 b[9];
        const __u32 n = payload_head(skb, p, b, 5);
        if (p->dir != SW_DIR_CLIENT || (b[0] & 0xc0) != 0xc0 ||
            quic_long_type(b, n) != QUIC_INITIAL)
            return;
        f = create_flow(&p->key, precise_now(&now), cnt);
        if (!f) return;
    }
    if (p->payload_len > 0) update_cadence(&f->cadence, p->dir, p->payload_len, &now);
    const bool send = quic_first_flight(skb, f, p);
    if (send) precise_now(&now);
    touch(f, now);
    if (send && !emit_packet(skb, p, now, cnt)) hello_lost(f, p, cnt);
}

/* The cheap early exit: whether the L4 header at l4_off carries a monitored service port
 * (destination port on ingress, source port on egress) for this protocol. */
static __always_inline bool service_port(void* data, void* data_end, __u32 l4_off, __u8 l4,
                                         bool ingress, struct sw_counters* cnt) {
    __be16* ports = data + l4_off;
    if ((void*)(ports + 2) > data_end) {
        cnt->c[SW_CNT_NONLINEAR]++;
        return false;
    }
    const __u8 want = l4 == IPPROTO_TCP ? SW_PORT_TCP : SW_PORT_UDP;
    __u32 port = bpf_ntohs(ingress ? ports[1] : ports[0]);
    __u8* pv = bpf_map_lookup_elem(&sw_ports, &port);
    return pv && (*pv & want);
}

/* Parses Ethernet (+ in-packet 802.1Q/QinQ tags), IPv4/IPv6 and the L4 ports with direct packet
 * access, and returns early for anything that is not TCP/UDP of a service port in the server
 * role. A VLAN tag the NIC took off (skb->vlan_tci) is no longer in the data, which then holds
 * the MAC header and L3 as if untagged. */
static __always_inline void handle(struct __sk_buff* skb, const bool ingress) {
    const __u32 zero = 0;
    struct sw_counters* cnt = bpf_map_lookup_elem(&sw_counters, &zero);
    if (!cnt) return;
    cnt->c[SW_CNT_PACKETS]++;

    /* Headers beyond the skb's linear part (a large frame from a packet socket, some drivers):
     * pull the first bytes into it. That moves no byte of the packet's content, only where the
     * kernel keeps it, so the program stays passive. */
    const __u32 linear = skb->data_end - skb->data;
    if (linear < SW_HEADER_PULL && skb->len > linear)
        bpf_skb_pull_data(skb, skb->len < SW_HEADER_PULL ? skb->len : SW_HEADER_PULL);
    /* Hide skb from the optimiser here: otherwise clang keeps "ctx + offsetof(data_end)" in a
     * register across the call and loads through it, which the verifier refuses. */
    asm volatile("" : "+r"(skb));
    void* data = (void*)(long)skb->data;
    void* data_end = (void*)(long)skb->data_end;
    __u32 off = 0;
    __be16 proto;
    if (sw_l3_device) {
        proto = skb->protocol;
    } else {
        struct ethhdr* eth = data;
        if ((void*)(eth + 1) > data_end) return;
        proto = eth->h_proto;
        off = sizeof(*eth);
#pragma unroll
        for (int i = 0; i < 2; i++) {
            if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
            struct sw_vlan* v = data + off;
            if ((void*)(v + 1) > data_end) return;
            proto = v->proto;
            off += sizeof(*v);
        }
    }

    struct sw_pkt p;
    __u32 l4_off, ip_end;
    __u8 l4;
    if (proto == bpf_htons(ETH_P_IP)) {
        struct iphdr* ip = data + off;
        if ((void*)(ip + 1) > data_end) {
            cnt->c[SW_CNT_NONLINEAR]++;
            return;
        }
        l4 = ip->protocol;
        if (l4 != IPPROTO_TCP && l4 != IPPROTO_UDP) return;
        if (ip->frag_off & bpf_htons(0x1fff)) return; /* a later fragment: no L4 header */
        const __u32 ihl = ip->ihl * 4;
        if (ihl < sizeof(*ip)) return;
        l4_off = off + ihl;
        if (!service_port(data, data_end, l4_off, l4, ingress, cnt)) return;
        __builtin_memset(&p.key, 0, sizeof(p.key));
        p.key.family = 4;
        if (ingress) {
            __builtin_memcpy(p.key.client_addr, &ip->saddr, 4);
            __builtin_memcpy(p.key.server_addr, &ip->daddr, 4);
        } else {
            __builtin_memcpy(p.key.client_addr, &ip->daddr, 4);
            __builtin_memcpy(p.key.server_addr, &ip->saddr, 4);
        }
        const __u32 total = bpf_ntohs(ip->tot_len);
        /* tot_len 0: a TSO/GSO aggregate beyond 64 KiB (BIG TCP) */
        ip_end = total ? off + total : skb->len;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr* ip6 = data + off;
        if ((void*)(ip6 + 1) > data_end) {
            cnt->c[SW_CNT_NONLINEAR]++;
            return;
        }
        l4 = ip6->nexthdr;
        l4_off = off + sizeof(*ip6);
        /* Extension headers: hop-by-hop, routing, destination options, AH, and a first
         * fragment; at most 4 of them. */
#pragma unroll
        for (int i = 0; i < 4; i++) {
            if (l4 == IPPROTO_TCP || l4 == IPPROTO_UDP) break;
            __u8* h = data + l4_off;
            if ((void*)(h + 8) > data_end) {
                cnt->c[SW_CNT_NONLINEAR]++;
                return;
            }
            if (l4 == IPPROTO_HOPOPTS || l4 == IPPROTO_ROUTING || l4 == IPPROTO_DSTOPTS) {
                l4_off += (h[1] + 1) * 8;
            } else if (l4 == IPPROTO_AH) {
                l4_off += (h[1] + 2) * 4;
            } else if (l4 == IPPROTO_FRAGMENT) {
                if ((h[2] << 8 | h[3]) & 0xfff8) return; /* a later fragment */
                l4_off += 8;
            } else {
                return;
            }
            l4 = h[0];
        }
        if (l4 != IPPROTO_TCP && l4 != IPPROTO_UDP) return;
        if (!service_port(data, data_end, l4_off, l4, ingress, cnt)) return;
        p.key.family = 6;
        p.key.pad[0] = p.key.pad[1] = 0;
        if (ingress) {
            __builtin_memcpy(p.key.client_addr, &ip6->saddr, 16);
            __builtin_memcpy(p.key.server_addr, &ip6->daddr, 16);
        } else {
            __builtin_memcpy(p.key.client_addr, &ip6->daddr, 16);
            __builtin_memcpy(p.key.server_addr, &ip6->saddr, 16);
        }
        const __u32 plen = bpf_ntohs(ip6->payload_len);
        /* payload_len 0: a jumbogram or a BIG TCP aggregate */
        ip_end = plen ? off + sizeof(*ip6) + plen : skb->len;
    } else {
        return;
    }
    cnt->c[SW_CNT_MATCHED]++;

    p.l3_off = off;
    p.dir = ingress ? SW_DIR_CLIENT : SW_DIR_SERVER;
    p.key.proto = l4;
    p.tcp_flags = 0;
    p.seq = 0;
    if (l4 == IPPROTO_TCP) {
        struct tcphdr* th = data + l4_off;
        if ((void*)(th + 1) > data_end) {
            cnt->c[SW_CNT_NONLINEAR]++;
            return;
        }
        if (th->doff < 5) return; /* malformed: userspace's decoder rejects it too */
        p.key.client_port = bpf_ntohs(ingress ? th->source : th->dest);
        p.key.server_port = bpf_ntohs(ingress ? th->dest : th->source);
        p.seq = bpf_ntohl(th->seq);
        p.tcp_flags = ((__u8*)th)[13];
        p.payload_off = l4_off + th->doff * 4;
        p.payload_len = ip_end > p.payload_off ? ip_end - p.payload_off : 0;
        p.tcp = 1;
        tcp_packet(skb, &p, cnt);
    } else {
        struct udphdr* uh = data + l4_off;
        if ((void*)(uh + 1) > data_end) {
            cnt->c[SW_CNT_NONLINEAR]++;
            return;
        }
        p.key.client_port = bpf_ntohs(ingress ? uh->source : uh->dest);
        p.key.server_port = bpf_ntohs(ingress ? uh->dest : uh->source);
        p.payload_off = l4_off + sizeof(*uh);
        p.payload_len = ip_end > p.payload_off ? ip_end - p.payload_off : 0;
        p.tcp = 0;
        udp_packet(skb, &p, cnt);
    }
}

SEC("tc")
int sw_ingress(struct __sk_buff* skb) {
    handle(skb, true);
    return TC_ACT_UNSPEC;
}

SEC("tc")
int sw_egress(struct __sk_buff* skb) {
    handle(skb, false);
    return TC_ACT_UNSPEC;
}
