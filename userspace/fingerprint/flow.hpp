// Per-connection state the engine keeps between packets.
#pragma once

#include <cstdint>
#include <memory>

#include "fingerprint/observation.hpp"
#include "net/ip_address.hpp"
#include "net/stream_reassembler.hpp"
#include "quic/initial_decoder.hpp"

namespace sybilwatch::fingerprint {

// What is known of one direction's first flight (ClientHello or ServerHello).
enum class HelloState : uint8_t { Pending, Parsed, NotTls, Failed };

struct Flow {
    // Roles: the client is the initiator (SYN sender, or QUIC/DTLS ClientHello sender).
    net::IpAddress client;
    uint16_t client_port = 0;
    bool roles_known = false;

    int64_t first_ns = 0, last_ns = 0;
    bool client_fin = false, server_fin = false;
    bool emitted = false;    // the observation went out already (handshake mode)
    bool data_seen = false;  // any payload: a later SYN starts a new connection
    uint32_t syn_seq = 0;
    uint16_t syn_mss = 0;

    HelloState client_hello = HelloState::Pending;
    HelloState server_hello = HelloState::Pending;
    // A plaintext preamble (HTTP CONNECT, SOCKS, STARTTLS) can come before TLS: segments of
    // each direction skipped while looking for a hello record.
    uint8_t client_preamble = 0, server_preamble = 0;
    net::StreamReassembler client_stream, server_stream;

    // QUIC: the decoder lives as long as the flow's handshake; timestamps for JA4L.
    std::unique_ptr<quic::InitialDecoder> quic;
    int64_t quic_server_handshake_ns = 0;
    bool quic_client_handshake_seen = false;

    // Cadence: direction of the current burst (0 none, 1 client, 2 server) and its start.
    uint8_t burst_dir = 0;
    uint32_t burst_bytes = 0;
    int64_t last_request_ns = 0;

    Observation obs;

    void reset() {
        client = {};
        client_port = 0;
        roles_known = false;
        first_ns = last_ns = 0;
        client_fin = server_fin = emitted = data_seen = false;
        syn_seq = 0;
        syn_mss = 0;
        client_hello = server_hello = HelloState::Pending;
        client_preamble = server_preamble = 0;
        client_stream.reset();
        server_stream.reset();
        quic.reset();
        quic_server_handshake_ns = 0;
        quic_client_handshake_seen = false;
        burst_dir = 0;
        burst_bytes = 0;
        last_request_ns = 0;
        obs.clear();
    }
    bool handshake_done() const {
        return client_hello != HelloState::Pending && server_hello != HelloState::Pending;
    }
};

}  // namespace sybilwatch::fingerprint
