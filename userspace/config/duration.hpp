// Durations in the config file: an integer and a unit ("250ms", "5s", "2m", "1h").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sybilwatch::config {

// Units: ns, us, ms, s, m, h. A unit is required (a bare "300" is ambiguous). Returns nullopt
// for anything else, negative values, or a total that overflows int64 nanoseconds.
std::optional<int64_t> parse_duration(std::string_view text);

// The shortest exact spelling in the largest whole unit ("5m", "250ms"), for messages and
// dump_defaults().
std::string format_duration(int64_t ns);

}  // namespace sybilwatch::config
