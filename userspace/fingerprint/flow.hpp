// Per-connection state the engine keeps between packets, for as long as the connection is open:
// what is the connection's own (who is the client, timing, TTLs, JA4L, cadence, flags). The
// handshake's working state lives apart (Handshake, while it lasts) and its outcome, shared by
// many connections, is interned (FactsTable); see docs/benchmarks.md, "Daemon memory".
#pragma once

#include <cstdint>

#include "fingerprint/fixed_string.hpp"
#include "fingerprint/observation.hpp"

namespace sybilwatch::fingerprint {

struct Flow {
    static constexpr uint32_t kNone = UINT32_MAX;

    // What every packet reads or writes comes first, within the first 64 bytes: a lookup then
    // costs one cache line of the flow, not four.
    int64_t last_ns = 0;
    int64_t synack_ns = 0, ack_ns = 0;
    // Cadence: the start of the current request burst.
    int64_t last_request_ns = 0;
    // HandshakePool id while the handshake is in progress, and after it while its facts wait
    // there to be interned (handshake_over).
    uint32_t handshake = kNone;
    uint32_t burst_bytes = 0;
    Transport transport = Transport::Tcp;
    uint8_t burst_dir = 0;  // direction of the current burst: 0 none, 1 client, 2 server
    // Roles: the client is the initiator (SYN sender, or QUIC/DTLS ClientHello sender), named by
    // the side of the flow key it is on.
    bool client_set = false;
    bool client_is_a = false;
    bool roles_known = false;
    bool syn_seen = false;
    bool client_fin = false, server_fin = false;
    bool emitted = false;    // the observation went out already (handshake mode)
    bool data_seen = false;  // any payload: a later SYN starts a new connection
    bool quic_client_handshake_seen = false;
    bool handshake_over = false;  // `handshake` holds facts only

    Cadence cadence;  // data packets
    int64_t first_ns = 0;
    int64_t ts_ns = 0;  // the Observation's: first packet, the SYN when seen
    int64_t syn_ns = 0;
    int64_t rtt_us = -1;
    // QUIC: the last server Handshake packet before the client's first one (JA4L-C).
    int64_t quic_server_handshake_ns = 0;
    FixedString<24> ja4l_c, ja4l_s;
    uint32_t syn_seq = 0;
    // FactsTable ids of the handshake's outcome once it is over (kNone: none, or not needed).
    uint32_t stack_facts = kNone, order_shape = kNone, order_facts = kNone;
    uint8_t client_ttl = 0, server_ttl = 0;
};

}  // namespace sybilwatch::fingerprint
