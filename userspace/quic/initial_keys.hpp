// Initial packet protection keys (RFC 9001 §5.2, RFC 9369 §3.3): HKDF-Extract of the client's
// first Destination Connection ID with the version's salt, then HKDF-Expand-Label to the
// "client in" / "server in" secrets and from each to the AEAD key, IV and header-protection key.
// Anyone who sees the client's first Initial can derive them: that is what lets a passive
// observer read the ClientHello.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "quic/version.hpp"

namespace sybilwatch::quic {

enum class Perspective : uint8_t { Client, Server };

using InitialSecret = std::array<uint8_t, 32>;  // SHA-256 output

struct PacketKeys {
    std::array<uint8_t, 16> key{};  // AES-128-GCM
    std::array<uint8_t, 12> iv{};
    std::array<uint8_t, 16> hp{};  // AES-128-ECB header protection
};

// initial_secret = HKDF-Extract(salt, dcid), then the two endpoint secrets from it.
bool derive_initial_secrets(const VersionParams& version, std::span<const uint8_t> dcid,
                            InitialSecret& client, InitialSecret& server);

// key, iv and hp from one endpoint's Initial secret, with the version's labels.
bool derive_packet_keys(const VersionParams& version, const InitialSecret& secret, PacketKeys& out);

// Both steps for one endpoint. False only if OpenSSL fails (never for any dcid).
bool derive_initial_keys(const VersionParams& version, std::span<const uint8_t> dcid,
                         Perspective who, PacketKeys& out);

}  // namespace sybilwatch::quic
