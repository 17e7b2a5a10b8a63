#include "quic/initial_frames.hpp"

#include "quic/byte_reader.hpp"

namespace sybilwatch::quic {

namespace {

namespace frame {
inline constexpr uint64_t Padding = 0x00, Ping = 0x01, Ack = 0x02, AckEcn = 0x03, Crypto = 0x06,
                          ConnectionClose = 0x1c;
}

bool skip_ack(ByteReader& r, bool ecn) {
    uint64_t largest = 0, delay = 0, count = 0, first = 0;
    if (!r.varint(largest) || !r.varint(delay) || !r.varint(count) || !r.varint(first)) {
        return false;
    }
    // Each range takes at least two bytes, so a huge count runs out of payload, not of time.
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t gap = 0, len = 0;
        if (!r.varint(gap) || !r.varint(len)) return false;
    }
    if (ecn) {
        uint64_t ect0 = 0, ect1 = 0, ce = 0;
        if (!r.varint(ect0) || !r.varint(ect1) || !r.varint(ce)) return false;
    }
    return true;
}

bool skip_connection_close(ByteReader& r) {
    uint64_t error = 0, frame_type = 0, reason_len = 0;
    return r.varint(error) && r.varint(frame_type) && r.varint(reason_len) &&
           reason_len <= r.remaining() && r.skip(static_cast<size_t>(reason_len));
}

}  // namespace

FrameResult parse_initial_frames(std::span<const uint8_t> payload, CryptoStream& stream,
                                 FrameCounts& counts) {
    ByteReader r(payload);
    while (!r.empty()) {
        // PADDING is most of a client Initial: skip the run without per-byte varint decoding.
        const auto rest = r.rest();
        if (rest[0] == 0) {
            size_t n = 1;
            while (n < rest.size() && rest[n] == 0)
                ++n;
            r.skip(n);
            counts.padding_bytes += static_cast<uint32_t>(n);
            continue;
        }
        uint64_t type = 0;
        if (!r.varint(type)) return FrameResult::Malformed;
        switch (type) {
            case frame::Padding:  // a non-minimal encoding of 0: still padding
                ++counts.padding_bytes;
                break;
            case frame::Ping:
                ++counts.ping;
                break;
            case frame::Ack:
            case frame::AckEcn:
                if (!skip_ack(r, type == frame::AckEcn)) return FrameResult::Malformed;
                ++counts.ack;
                break;
            case frame::Crypto: {
                uint64_t offset = 0, length = 0;
                std::span<const uint8_t> data;
                if (!r.varint(offset) || !r.varint(length) || length > r.remaining() ||
                    length > kMaxVarint - offset) {
                    return FrameResult::Malformed;
                }
                r.bytes(static_cast<size_t>(length), data);
                stream.add(offset, data);
                ++counts.crypto;
                break;
            }
            case frame::ConnectionClose:
                if (!skip_connection_close(r)) return FrameResult::Malformed;
                ++counts.connection_close;
                break;
            default:
                return FrameResult::Disallowed;
        }
    }
    return FrameResult::Ok;
}

const char* to_string(FrameResult r) {
    switch (r) {
        case FrameResult::Ok:
            return "ok";
        case FrameResult::Disallowed:
            return "frame not allowed in Initial";
        case FrameResult::Malformed:
            return "malformed frame";
    }
    return "?";
}

}  // namespace sybilwatch::quic
