// Parsing of QUIC long headers (RFC 9000 §17.2) up to the protected packet number, which is
// all a passive observer can read before removing header protection. Also splits a datagram
// into its coalesced packets: each long header's Length field says where the next one starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "quic/version.hpp"

namespace sybilwatch::quic {

inline constexpr size_t kMaxCidLength = 20;  // RFC 9000 §17.2 for versions 1 and 2

struct LongHeader {
    const VersionParams* version = nullptr;
    PacketType type = PacketType::Initial;
    uint8_t first_byte = 0;  // as on the wire: the low bits are still protected
    std::span<const uint8_t> dcid;
    std::span<const uint8_t> scid;
    std::span<const uint8_t> token;  // Initial packets only
    size_t start = 0;                // offset of the first byte in the datagram
    size_t pn_offset = 0;            // offset of the protected packet number (not for Retry)
    size_t end = 0;                  // one past the packet's last byte (Retry: the datagram's end)
};

enum class HeaderResult : uint8_t {
    Ok,
    NotLongHeader,       // short header, or nothing left: no more long-header packets here
    UnsupportedVersion,  // Version Negotiation or a version we have no Initial keys for
    Truncated,           // the datagram ends inside the header or before Length says
    Malformed,           // a connection ID longer than 20 bytes
};
const char* to_string(HeaderResult r);

// Parses the long-header packet that starts at `offset` of `datagram`. The fixed bit is not
// required (RFC 9287 lets endpoints grease it); the version is what identifies QUIC here.
HeaderResult parse_long_header(std::span<const uint8_t> datagram, size_t offset, LongHeader& out);

// Cheap test for "this UDP payload starts with a QUIC Initial we can decrypt": long header and
// fixed bit set, version 1, 2 or draft-29, Initial type, and a header that fits the payload.
bool looks_like_initial(std::span<const uint8_t> udp_payload);

}  // namespace sybilwatch::quic
