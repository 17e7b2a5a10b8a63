// How the JA4 family renders TLS values as text. JA4 (userspace/fingerprint, BSD-3) and JA4S
// (userspace/foxio, FoxIO License) share these rules but must not depend on each other's
// modules, so they live with the parser they describe.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace sybilwatch::tls {

inline constexpr char kHexDigits[] = "0123456789abcdef";

namespace detail {
// "000102...ff": two hex digits per byte value, so a 16-bit value is two table copies.
struct HexPairs {
    char text[512];
    constexpr HexPairs() : text() {
        for (int i = 0; i < 256; ++i) {
            text[2 * i] = kHexDigits[i >> 4];
            text[2 * i + 1] = kHexDigits[i & 0xf];
        }
    }
};
inline constexpr HexPairs kHexPairs{};
}  // namespace detail

// Writes v as 4 lower-case hex digits at p; returns p + 4.
inline char* put_hex4(char* p, uint16_t v) {
    std::memcpy(p, detail::kHexPairs.text + 2 * (v >> 8), 2);
    std::memcpy(p + 2, detail::kHexPairs.text + 2 * (v & 0xff), 2);
    return p + 4;
}

// Appends JA4 text to a std::string. Same interface as TextDigest, so one formatter produces
// both the hashed and the raw form of a fingerprint.
struct StringSink {
    std::string& s;
    void put(char c) { s.push_back(c); }
    void put_hex4(uint16_t v) {
        char buf[4];
        tls::put_hex4(buf, v);
        s.append(buf, 4);
    }
    void put_hex_list(std::span<const uint16_t> values) {
        for (size_t i = 0; i < values.size(); ++i) {
            if (i > 0) s.push_back(',');
            put_hex4(values[i]);
        }
    }
};

// Two decimal digits, capped at 99 (JA4 counts).
inline std::array<char, 2> two_digits(size_t n) {
    if (n > 99) n = 99;
    return {static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)};
}

// JA4 version code (technical_details/JA4.md, "TLS and DTLS Version"); unknown is "00".
constexpr std::array<char, 2> ja4_version_code(uint16_t v) {
    switch (v) {
        case 0x0304:
            return {'1', '3'};
        case 0x0303:
            return {'1', '2'};
        case 0x0302:
            return {'1', '1'};
        case 0x0301:
            return {'1', '0'};
        case 0x0300:
            return {'s', '3'};
        case 0x0002:
            return {'s', '2'};
        case 0xfeff:
            return {'d', '1'};
        case 0xfefd:
            return {'d', '2'};
        case 0xfefc:
            return {'d', '3'};
        default:
            return {'0', '0'};
    }
}

constexpr bool is_ascii_alnum(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// The two ALPN characters of JA4/JA4S: first and last character of the value; "00" when there
// is none; when either end is not an ASCII letter or digit, the first and last characters of
// the value's hex form instead (bytes ba ad -> "bd"). A one-character value 'x' gives "xx".
constexpr std::array<char, 2> ja4_alpn_chars(std::span<const uint8_t> value) {
    if (value.empty()) return {'0', '0'};
    const uint8_t first = value.front(), last = value.back();
    if (is_ascii_alnum(first) && is_ascii_alnum(last)) {
        return {static_cast<char>(first), static_cast<char>(last)};
    }
    return {kHexDigits[first >> 4], kHexDigits[last & 0xf]};
}

}  // namespace sybilwatch::tls
