// TCP options of one segment, parsed once for every fingerprint that needs them (JA4T, JA4TS,
// the p0f-style signature).
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace sybilwatch::net {

struct TcpOptions {
    static constexpr size_t kMax = 40;  // options fit in 40 bytes: at most 40 kinds
    // In wire order, NOP (1) included; EOL (0) and every zero padding byte after it each count
    // as a kind-0 entry (the JA4T convention).
    std::array<uint8_t, kMax> kinds{};
    uint8_t count = 0;
    int32_t mss = -1;     // -1: absent
    int16_t wscale = -1;  // -1: absent
    bool sack_ok = false;
    bool has_ts = false;
    uint32_t ts_val = 0, ts_ecr = 0;
    bool eol_seen = false;
    uint8_t eol_padding = 0;      // bytes after the first EOL
    bool data_after_eol = false;  // a non-zero byte after EOL
    bool malformed = false;       // an option runs past the header or has a bad length

    std::span<const uint8_t> kind_list() const { return {kinds.data(), count}; }
};

TcpOptions parse_tcp_options(std::span<const uint8_t> bytes);

}  // namespace sybilwatch::net
