// Frames of a decrypted Initial packet (RFC 9000 §12.4: only PADDING, PING, ACK, CRYPTO and
// CONNECTION_CLOSE may appear there). CRYPTO data goes into the stream; everything else is
// skipped after being bounds-checked. Parsing stops at the first frame that is malformed or not
// allowed in an Initial; what came before it was authenticated and is kept.
#pragma once

#include <cstdint>
#include <span>

#include "quic/crypto_stream.hpp"

namespace sybilwatch::quic {

enum class FrameResult : uint8_t {
    Ok,          // every frame parsed
    Disallowed,  // a frame type not allowed in Initial packets: parsing stopped there
    Malformed,   // a frame runs past the payload or breaks a limit: parsing stopped there
};
const char* to_string(FrameResult r);

struct FrameCounts {
    uint32_t crypto = 0;
    uint32_t ack = 0;
    uint32_t ping = 0;
    uint32_t connection_close = 0;
    uint32_t padding_bytes = 0;
};

FrameResult parse_initial_frames(std::span<const uint8_t> payload, CryptoStream& stream,
                                 FrameCounts& counts);

}  // namespace sybilwatch::quic
