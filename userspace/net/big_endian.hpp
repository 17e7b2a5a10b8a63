// Loads of network-order (and little-endian) integers from raw packet bytes. Callers check the
// bounds first: these are the unchecked inner reads of parsers that already know the length.
#pragma once

#include <cstdint>

namespace sybilwatch::net {

inline uint16_t load_be16(const uint8_t* p) {
    return static_cast<uint16_t>((unsigned{p[0]} << 8) | p[1]);
}

inline uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

inline uint32_t load_le32(const uint8_t* p) {
    return (uint32_t{p[3]} << 24) | (uint32_t{p[2]} << 16) | (uint32_t{p[1]} << 8) | p[0];
}

}  // namespace sybilwatch::net
