// GREASE (RFC 8701): reserved values clients sprinkle into cipher, extension, group, version
// and signature-algorithm lists so servers keep tolerating unknown values. They are random per
// connection, so every fingerprint must drop them.
#pragma once

#include <cstdint>

namespace sybilwatch::tls {

// 0x0a0a, 0x1a1a, ... 0xfafa: both bytes equal, low nibble of each 0xa.
constexpr bool is_grease(uint16_t v) {
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static_assert(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x5a5a));
static_assert(!is_grease(0x0a1a) && !is_grease(0x1301) && !is_grease(0xaaab));

}  // namespace sybilwatch::tls
