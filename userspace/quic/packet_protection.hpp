// Initial packet protection primitives (RFC 9001 §5.3, §5.4): AES-128-GCM with the nonce
// iv XOR packet number, and the AES-128-ECB header-protection mask. The OpenSSL contexts are
// thread_local and created once per thread; a call only re-keys them, so opening a packet
// allocates nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "quic/initial_keys.hpp"

namespace sybilwatch::quic {

inline constexpr size_t kAeadTagLength = 16;
inline constexpr size_t kHpSampleLength = 16;

// mask[0..4] = AES-ECB(hp, sample). False only if OpenSSL fails.
bool header_protection_mask(const std::array<uint8_t, 16>& hp,
                            std::span<const uint8_t, kHpSampleLength> sample,
                            std::array<uint8_t, 5>& mask);

// Decrypts `sealed` (ciphertext followed by the 16-byte tag) into `out`, which must hold
// sealed.size() - 16 bytes. True only if the tag authenticates the header `aad` and the payload;
// on false, `out` holds unauthenticated garbage and must not be used.
bool aead_open(const PacketKeys& keys, uint64_t packet_number, std::span<const uint8_t> aad,
               std::span<const uint8_t> sealed, std::span<uint8_t> out);

// The inverse, for tests and tools that build packets: `out` must hold plaintext.size() + 16.
bool aead_seal(const PacketKeys& keys, uint64_t packet_number, std::span<const uint8_t> aad,
               std::span<const uint8_t> plaintext, std::span<uint8_t> out);

}  // namespace sybilwatch::quic
