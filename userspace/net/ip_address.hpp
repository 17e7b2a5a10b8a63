// An IPv4 or IPv6 address as a value: comparable, hashable, printable without allocation.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace sybilwatch::net {

struct IpAddress {
    uint8_t family = 0;               // 4, 6, or 0 when unset
    std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes, the rest zero

    static IpAddress v4(std::span<const uint8_t, 4> b) {
        IpAddress a;
        a.family = 4;
        std::memcpy(a.bytes.data(), b.data(), 4);
        return a;
    }
    static IpAddress v6(std::span<const uint8_t, 16> b) {
        IpAddress a;
        a.family = 6;
        std::memcpy(a.bytes.data(), b.data(), 16);
        return a;
    }
    // Parses dotted IPv4 or RFC 5952 IPv6 text; family 0 on failure.
    static IpAddress parse(std::string_view text);

    // Compared as two big-endian 64-bit words: the same order as byte by byte, without the
    // memcmp call a defaulted comparison makes (flow lookups compare addresses per packet).
    bool operator==(const IpAddress& o) const {
        return family == o.family && word(0) == o.word(0) && word(1) == o.word(1);
    }
    std::strong_ordering operator<=>(const IpAddress& o) const {
        if (auto c = family <=> o.family; c != 0) return c;
        if (auto c = __builtin_bswap64(word(0)) <=> __builtin_bswap64(o.word(0)); c != 0) return c;
        return __builtin_bswap64(word(1)) <=> __builtin_bswap64(o.word(1));
    }
    uint64_t word(size_t i) const {
        uint64_t w;
        std::memcpy(&w, bytes.data() + 8 * i, 8);
        return w;
    }

    // Writes the canonical text (inet_ntop form) into buf; returns the view of it.
    // 46 bytes always suffice.
    static constexpr size_t kMaxText = 46;
    std::string_view format(std::span<char, kMaxText> buf) const;
    std::string to_string() const;
};

}  // namespace sybilwatch::net

template <>
struct std::hash<sybilwatch::net::IpAddress> {
    size_t operator()(const sybilwatch::net::IpAddress& a) const noexcept {
        uint64_t lo, hi;
        std::memcpy(&lo, a.bytes.data(), 8);
        std::memcpy(&hi, a.bytes.data() + 8, 8);
        uint64_t h = (lo * 0x9E3779B97F4A7C15ull) ^ (hi + 0x632BE59BD9B4E019ull + a.family);
        return static_cast<size_t>(h ^ (h >> 29));
    }
};
