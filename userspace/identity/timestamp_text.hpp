// Timestamps written as text by gateways: "1712345678.123" (nginx $msec quoted, Envoy
// %START_TIME(%s.%3f)%) and RFC 3339 ("2024-04-05T12:34:56.789Z", nginx $time_iso8601,
// Envoy's default %START_TIME%).
#pragma once

#include <optional>
#include <string_view>

namespace sybilwatch::identity {

// The largest accepted timestamp: later ones would not fit int64 nanoseconds (year 2262).
inline constexpr double kMaxEpochSeconds = 9.0e9;

// Epoch seconds from decimal text (digits, optionally '.' and digits; no sign, no exponent)
// or an RFC 3339 date-time with a 'Z' or numeric offset. nullopt when it is neither, or
// outside [0, kMaxEpochSeconds].
std::optional<double> parse_timestamp_text(std::string_view text);

}  // namespace sybilwatch::identity
