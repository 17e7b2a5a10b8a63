// Observation: everything sybilwatch learned about one connection. The single type that flows
// from capture through identity and rules to alerts (see DESIGN.md, "one concept, one place").
#pragma once

#include <cstdint>
#include <string>

#include "fingerprint/fixed_string.hpp"
#include "net/ip_address.hpp"

namespace sybilwatch::fingerprint {

enum class Transport : uint8_t { Tcp, Quic, Dtls };
const char* to_string(Transport t);

enum class EndReason : uint8_t { Open, Fin, Rst, Idle, Evicted, EndOfCapture };
const char* to_string(EndReason r);

// Request/response cadence of the connection's application data: a burst is a run of data
// segments in one direction; client bursts are requests. Gaps are between request starts.
struct Cadence {
    uint32_t requests = 0;      // client data bursts
    uint32_t responses = 0;     // server data bursts
    uint64_t client_bytes = 0;  // client payload bytes (first TCP segment copies included)
    uint64_t server_bytes = 0;
    uint32_t max_request_bytes = 0;
    uint32_t min_request_bytes = 0;
    // Gaps between successive request starts (µs): count, mean and M2 for the variance
    // (Welford), min and max.
    uint32_t gap_count = 0;
    double gap_mean_us = 0;
    double gap_m2 = 0;
    uint64_t gap_min_us = 0;
    uint64_t gap_max_us = 0;
    int64_t duration_us = 0;  // first to last packet

    double gap_stddev_us() const;
    void add_gap(uint64_t gap_us);
};

struct Observation {
    int64_t ts_ns = 0;  // first packet of the connection (the SYN when seen)
    Transport transport = Transport::Tcp;
    net::IpAddress src;  // initiator (client)
    net::IpAddress dst;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;

    // TLS ClientHello facts.
    FixedString<255> sni;
    FixedString<255> alpn;     // first ALPN value the client offered
    uint16_t tls_version = 0;  // negotiated (ServerHello) when seen, else offered
    // Fingerprints; empty = not computable, printed as absent.
    FixedString<40> ja4;
    FixedString<40> ja4_o;
    FixedString<32> ja3;
    FixedString<40> ja4s;
    FixedString<200> ja4t;
    FixedString<200> ja4ts;
    FixedString<24> ja4l_c;
    FixedString<24> ja4l_s;
    FixedString<160> tcp_sig;
    // Raw variants are long and only wanted for display; they keep their capacity when an
    // Observation is reused, so they cost no allocation in steady state.
    std::string ja4_r, ja4_ro, ja3_full, ja4s_r;

    // Timing (ns since epoch; 0 = not seen) and TTLs (0 = not seen).
    int64_t syn_ns = 0, synack_ns = 0, ack_ns = 0;
    uint8_t client_ttl = 0, server_ttl = 0;
    int64_t rtt_us = -1;  // SYN to client ACK (TCP) / client to server Initial (QUIC); -1 unknown

    Cadence cadence;
    EndReason end = EndReason::Open;
    bool client_hello_seen = false;
    bool server_hello_seen = false;
    bool syn_seen = false;

    // Back to the default state; keep this in step with the members above (the unit test
    // ObservationClearsEveryField checks it against a default-constructed one).
    void clear();
};

}  // namespace sybilwatch::fingerprint
