// Inline copies of short strings. Fingerprinting and writing a connection's JSON line copy
// some forty strings of a few to a few dozen bytes; through memcpy with a length known only at
// run time, each is a libc call (~5 ns). Here they are a few unaligned moves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sybilwatch::fingerprint {

// Longer strings: libc's copy. Out of line, so the compiler does not check the call against
// the short arrays copy_short is mostly given (a path it cannot rule out, never taken for them).
[[gnu::noinline]] inline void copy_long(char* dst, const char* src, size_t n) {
    std::memcpy(dst, src, n);
}

// Copies n bytes from src to dst (not overlapping), reading and writing exactly those bytes.
inline void copy_short(char* dst, const char* src, size_t n) {
    if (n >= 16) {
        if (n > 64) {
            copy_long(dst, src, n);
            return;
        }
        // 16-byte chunks, the last one ending at n (it may rewrite bytes already copied).
        for (size_t i = 0; i + 16 < n; i += 16)
            std::memcpy(dst + i, src + i, 16);
        std::memcpy(dst + n - 16, src + n - 16, 16);
        return;
    }
    // Two moves of the widest size that fits, from each end.
    if (n >= 8) {
        uint64_t a, b;
        std::memcpy(&a, src, 8);
        std::memcpy(&b, src + n - 8, 8);
        std::memcpy(dst, &a, 8);
        std::memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        std::memcpy(&a, src, 4);
        std::memcpy(&b, src + n - 4, 4);
        std::memcpy(dst, &a, 4);
        std::memcpy(dst + n - 4, &b, 4);
    } else if (n >= 2) {
        uint16_t a, b;
        std::memcpy(&a, src, 2);
        std::memcpy(&b, src + n - 2, 2);
        std::memcpy(dst, &a, 2);
        std::memcpy(dst + n - 2, &b, 2);
    } else if (n == 1) {
        *dst = *src;
    }
}

}  // namespace sybilwatch::fingerprint
