// From a complete hello message to the Observation's TLS fields: the one place that knows which
// fingerprint comes from which hello.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "fingerprint/observation.hpp"

namespace sybilwatch::fingerprint {

// Parses a ClientHello (handshake header included) and fills sni, alpn, ja4, ja4_o, ja3 and,
// when `raw`, ja4_r, ja4_ro and ja3_full. transport: 't', 'q' or 'd'. False if malformed.
bool client_hello_fingerprints(std::span<const uint8_t> msg, char transport, bool dtls, bool raw,
                               Observation& o);

// Parses a ServerHello and fills tls_version and, when `foxio`, ja4s (and ja4s_r when `raw`).
bool server_hello_fingerprints(std::span<const uint8_t> msg, char transport, bool foxio, bool raw,
                               Observation& o);

}  // namespace sybilwatch::fingerprint
