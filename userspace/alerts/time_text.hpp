// Timestamps as the formats print them: RFC 3339 UTC with milliseconds for people and
// SIEM parsers, epoch milliseconds for OCSF and CEF.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sybilwatch::alerts {

// "2024-05-01T12:34:56.789Z": always 24 characters; the fraction is truncated (floor), so a
// time never prints later than it was. Covers the whole int64 nanosecond range (1677..2262).
constexpr size_t kRfc3339MsLen = 24;
std::string_view format_rfc3339_ms(int64_t ns, std::span<char, kRfc3339MsLen> buf);
std::string rfc3339_ms(int64_t ns);

// Floor division: -1 ns is -1 ms, not 0.
constexpr int64_t epoch_ms(int64_t ns) {
    return ns >= 0 ? ns / 1'000'000 : -((-(ns + 1)) / 1'000'000) - 1;
}

}  // namespace sybilwatch::alerts
