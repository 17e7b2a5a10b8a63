/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Layouts shared by the kernel programs (sybilwatch.bpf.c) and their loader
 * (userspace/capture/ebpf_capture.cpp): ring-buffer events, the flow map's key and value, the
 * counters. Plain C with fixed-width kernel types so both compilers lay them out alike. */
#ifndef SYBILWATCH_BPF_H
#define SYBILWATCH_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Defaults; the loader may change the map sizes before loading. */
#define SW_DEFAULT_MAX_FLOWS 65536
#define SW_DEFAULT_RING_BYTES (8u << 20)

/* Packet events copy the packet from its IP header into a record of one of these sizes (the
 * verifier wants a constant reservation size); larger packets are cut to the largest class. */
#define SW_CLASS_SMALL 128  /* SYN, SYN-ACK, ACK: IP + TCP headers with options */
#define SW_CLASS_MTU 1600   /* one Ethernet-MTU segment or datagram */
#define SW_CLASS_LARGE 4096 /* jumbo frames, small GRO/GSO aggregates */
#define SW_CLASS_MAX 16384  /* GRO/GSO aggregates: a hello is never longer than this */

/* First-flight bounds, the same as the userspace engine's (docs/architecture.md, "Bounds"). */
#define SW_HELLO_WINDOW 16384    /* offsets searched while the hello's length is unknown */
#define SW_MAX_HELLO_SEGMENTS 64 /* segments sent per direction for one hello */
#define SW_MAX_PREAMBLE 8        /* plaintext segments before TLS (proxy CONNECT, SOCKS) */
#define SW_QUIC_DATAGRAMS 16     /* long-header datagrams sent per direction */
#define SW_QUIC_SERVER_FLIGHT 32 /* server long-header datagrams before the client's Handshake */

/* Service-port map values (bits): which protocols the port is monitored for. */
#define SW_PORT_TCP 1
#define SW_PORT_UDP 2

enum sw_event_type {
    SW_EVENT_PACKET = 1,
    SW_EVENT_FLOW_END = 2,
};

/* Direction of a packet relative to the connection's roles; the host is the server. */
enum sw_dir {
    SW_DIR_CLIENT = 0, /* ingress: to a service port */
    SW_DIR_SERVER = 1, /* egress: from a service port */
};

enum sw_end_reason {
    SW_END_FIN = 1, /* both FINs seen */
    SW_END_RST = 2, /* a RST from either side */
    /* No packet for the idle timeout (swept by the loader), or a new connection (a SYN with
     * another ISN) reused the tuple of one that had not sent both FINs. */
    SW_END_IDLE = 3,
};

enum sw_counter {
    SW_CNT_PACKETS = 0,        /* every packet the programs ran on */
    SW_CNT_MATCHED,            /* TCP/UDP packets of a service port in the server role */
    SW_CNT_PACKET_EVENTS,      /* packet events submitted */
    SW_CNT_FLOW_END_EVENTS,    /* flow-end events submitted */
    SW_CNT_PACKET_DROPS,       /* packet events lost: ring buffer full */
    SW_CNT_FLOW_END_DROPS,     /* flow-end events lost: ring buffer full */
    SW_CNT_FLOWS_CREATED,      /* flow map inserts */
    SW_CNT_FLOW_INSERT_FAILED, /* flow map insert failed: the connection is not followed */
    SW_CNT_FLOWS_ENDED,        /* flows the kernel ended and deleted (FIN, RST, replaced) */
    SW_CNT_TRUNCATED,          /* packet events cut to SW_CLASS_MAX bytes */
    SW_CNT_NONLINEAR,          /* headers beyond the linear skb data (or the packet): skipped */
    SW_CNT_HELLO_LOST_FLOWS,   /* flows with a client hello event lost (counted once a flow) */
    SW_CNT_MAX,
};

/* Addresses as the userspace IpAddress holds them: IPv4 in the first 4 bytes, rest zero.
 * Ports in host byte order. */
struct sw_flow_key {
    __u8 client_addr[16];
    __u8 server_addr[16];
    __u16 client_port;
    __u16 server_port;
    __u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
    __u8 family; /* 4 or 6 */
    __u8 pad[2];
};

/* Request/response cadence, the same burst rules as fingerprint::Engine::update_cadence: a
 * burst is a run of data segments in one direction; client bursts are requests; gaps are
 * between request starts. Sums rather than Welford's mean (no floating point in BPF); the sum
 * of squares is 128 bits wide (gaps are clamped to 2^32-1 µs before squaring). */
struct sw_cadence {
    __u64 first_ns; /* monotonic (bpf_ktime_get_ns) */
    __u64 last_ns;
    __u64 client_bytes;
    __u64 server_bytes;
    __u64 gap_sum_us;
    __u64 gap_sumsq_lo;
    __u64 gap_sumsq_hi;
    __u64 gap_min_us;
    __u64 gap_max_us;
    __u64 last_request_ns;
    __u32 requests;
    __u32 responses;
    __u32 min_request_bytes;
    __u32 max_request_bytes;
    __u32 gap_count;
    __u32 burst_bytes; /* the open burst: closed by whoever ends the flow */
    __u8 burst_dir;    /* 0 none, 1 client, 2 server */
    __u8 pad[7];
};

/* What one direction's first flight (ClientHello or ServerHello) still needs. */
enum sw_hello_mode {
    SW_HELLO_START = 0, /* offset 0 not seen yet: send offsets below SW_HELLO_WINDOW */
    SW_HELLO_PREAMBLE,  /* offset 0 was not TLS: send until a segment starts a hello record */
    SW_HELLO_IN,        /* base is the hello record's start: send offsets below hello_end */
    SW_HELLO_DONE,      /* nothing more to send */
};

#define SW_DIR_BASE_KNOWN 1

struct sw_dir_state {
    __u32 base;      /* sequence number of relative offset 0 */
    __u32 hello_end; /* relative offset where the hello message ends; 0 while unknown */
    __u8 mode;       /* enum sw_hello_mode */
    __u8 flags;      /* SW_DIR_* */
    __u8 sent;       /* first-flight segments (or QUIC datagrams) sent */
    __u8 preamble;   /* preamble segments seen */
};

/* Bytes the programs want in the skb's linear part: Ethernet, two VLAN tags, IPv6 with a few
 * extension headers and a TCP header with options all fit. */
#define SW_HEADER_PULL 256

#define SW_FLOW_SYN 0x01      /* the client's SYN was seen */
#define SW_FLOW_SYNACK 0x02   /* the server's SYN-ACK was seen */
#define SW_FLOW_ACK_SENT 0x04 /* the client's first ACK after the SYN-ACK went out */
#define SW_FLOW_CLIENT_FIN 0x08
#define SW_FLOW_SERVER_FIN 0x10
#define SW_FLOW_QUIC_SERVER_HS 0x20 /* a server Handshake packet was seen */
#define SW_FLOW_QUIC_CLIENT_HS 0x40 /* the client's first Handshake packet went out */
#define SW_FLOW_HELLO_LOST 0x80     /* a client first-flight event was lost: no JA4 for it */

struct sw_flow {
    struct sw_cadence cadence;
    struct sw_dir_state dir[2]; /* indexed by enum sw_dir */
    __u32 client_isn;
    __u32 server_isn;
    __u32 flags;      /* SW_FLOW_* */
    __u32 touch_tick; /* low 32 bits of jiffies when last_ns was last moved (kernel only) */
};

struct sw_event_header {
    __u8 type;      /* enum sw_event_type */
    __u8 dir;       /* packet events: enum sw_dir */
    __u16 cap_len;  /* packet events: bytes in data[] */
    __u32 wire_len; /* packet events: packet length from the IP header on */
    __u64 ts_ns;    /* monotonic (bpf_ktime_get_ns) */
};

/* The record is sizeof(header) + one SW_CLASS_* size; cap_len says how much of it is packet. */
struct sw_packet_event {
    struct sw_event_header hdr;
    __u8 data[];
};

struct sw_flow_end_event {
    struct sw_event_header hdr;
    struct sw_flow_key key;
    __u32 reason; /* enum sw_end_reason */
    __u32 pad;
    struct sw_cadence cadence;
};

#endif /* SYBILWATCH_BPF_H */
