#include "config/duration.hpp"

#include <array>
#include <limits>

namespace sybilwatch::config {
namespace {

struct Unit {
    std::string_view name;
    int64_t ns;
};
// Largest first: format_duration picks the first that divides exactly.
constexpr std::array<Unit, 6> kUnits{{{"h", 3'600'000'000'000},
                                      {"m", 60'000'000'000},
                                      {"s", 1'000'000'000},
                                      {"ms", 1'000'000},
                                      {"us", 1'000},
                                      {"ns", 1}}};

}  // namespace

std::optional<int64_t> parse_duration(std::string_view text) {
    size_t i = 0;
    int64_t n = 0;
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
        const int d = text[i] - '0';
        if (n > (kMax - d) / 10) return std::nullopt;
        n = n * 10 + d;
        ++i;
    }
    if (i == 0) return std::nullopt;
    const std::string_view unit = text.substr(i);
    for (const Unit& u : kUnits) {
        if (unit != u.name) continue;
        if (n > kMax / u.ns) return std::nullopt;
        return n * u.ns;
    }
    return std::nullopt;
}

std::string format_duration(int64_t ns) {
    if (ns == 0) return "0s";
    for (const Unit& u : kUnits)
        if (ns % u.ns == 0) return std::to_string(ns / u.ns) + std::string(u.name);
    return std::to_string(ns) + "ns";  // unreachable: 1 ns divides everything
}

}  // namespace sybilwatch::config
