// JA4L light-distance fingerprints: half the time between two handshake packets in
// microseconds, and the sender's TTL. FoxIO License 1.1 (see NOTICE).
//   TCP:  JA4L-C = (ACK - SYNACK)/2 _ client TTL,   JA4L-S = (SYNACK - SYN)/2 _ server TTL
//   QUIC: JA4L-C = (client Handshake - last server Handshake)/2,
//         JA4L-S = (server Initial - client Initial)/2
#pragma once

#include <cstdint>

#include "fingerprint/fixed_string.hpp"

namespace sybilwatch::foxio {

// Leaves `out` empty when the timestamps are missing or out of order (never a guess).
void ja4l(int64_t earlier_ns, int64_t later_ns, uint8_t ttl, fingerprint::FixedString<24>& out);

}  // namespace sybilwatch::foxio
