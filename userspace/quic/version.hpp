// The QUIC versions whose Initial packets we can open, and what differs between them: the
// Initial salt, the HKDF labels and the numbering of long-header packet types (RFC 9001 §5.2,
// RFC 9369 §3). Everything else about Initial protection (AES-128-GCM, AES-ECB header
// protection, SHA-256 HKDF) is the same for all of them.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sybilwatch::quic {

inline constexpr uint32_t kVersion1 = 0x00000001;        // RFC 9000
inline constexpr uint32_t kVersion2 = 0x6b3343cf;        // RFC 9369
inline constexpr uint32_t kVersionDraft29 = 0xff00001d;  // still sent by older stacks

enum class PacketType : uint8_t { Initial, ZeroRtt, Handshake, Retry };
const char* to_string(PacketType t);

struct VersionParams {
    uint32_t version;
    std::array<uint8_t, 20> initial_salt;
    // HKDF-Expand-Label labels, without the "tls13 " prefix.
    std::string_view key_label;
    std::string_view iv_label;
    std::string_view hp_label;
    bool v2_packet_types;  // RFC 9369 renumbers the long-header packet types
};

// nullptr for a version we cannot open (unknown, reserved/greased, or Version Negotiation).
const VersionParams* find_version(uint32_t version);

// The packet type from the first byte of a long header (bits 4-5), per the version's numbering.
inline PacketType long_packet_type(const VersionParams& v, uint8_t first_byte) {
    const unsigned code = (first_byte >> 4) & 0x3u;
    // v2 numbering is v1's plus one (Retry 0, Initial 1, 0-RTT 2, Handshake 3).
    return static_cast<PacketType>(v.v2_packet_types ? (code + 3) & 0x3u : code);
}

}  // namespace sybilwatch::quic
