#include "rules/cidr_set.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

namespace sybilwatch::rules {

net::IpAddress mask(const net::IpAddress& a, uint8_t prefix) {
    net::IpAddress m = a;
    const size_t full = prefix / 8;
    if (full >= m.bytes.size()) return m;
    m.bytes[full] &= static_cast<uint8_t>(0xFF00u >> (prefix % 8));
    for (size_t i = full + 1; i < m.bytes.size(); ++i)
        m.bytes[i] = 0;
    return m;
}

std::optional<Cidr> parse_cidr(std::string_view text, std::string& why) {
    const size_t slash = text.find('/');
    const std::string_view addr_text = text.substr(0, slash);
    Cidr c;
    c.addr = net::IpAddress::parse(addr_text);
    if (c.addr.family == 0) {
        why = "'" + std::string(text) + "' is not an IP address or network";
        return std::nullopt;
    }
    const unsigned max = c.addr.family == 4 ? 32 : 128;
    c.prefix = static_cast<uint8_t>(max);
    if (slash != std::string_view::npos) {
        const std::string_view len = text.substr(slash + 1);
        unsigned n = 0;
        const auto r = std::from_chars(len.data(), len.data() + len.size(), n);
        if (len.empty() || r.ec != std::errc() || r.ptr != len.data() + len.size() || n > max) {
            why = "bad prefix length in '" + std::string(text) + "' (0 to " + std::to_string(max) +
                  ")";
            return std::nullopt;
        }
        c.prefix = static_cast<uint8_t>(n);
    }
    const net::IpAddress m = mask(c.addr, c.prefix);
    if (!(m == c.addr)) {
        why = "'" + std::string(text) + "' has host bits set (did you mean '" + m.to_string() +
              "/" + std::to_string(c.prefix) + "'?)";
        return std::nullopt;
    }
    return c;
}

void CidrSet::add(const Cidr& c) {
    if (!nets_.insert(Key{c.addr, c.prefix}).second) return;
    ++size_;
    auto& lengths = c.addr.family == 4 ? lengths4_ : lengths6_;
    if (std::find(lengths.begin(), lengths.end(), c.prefix) == lengths.end()) {
        lengths.push_back(c.prefix);
        std::sort(lengths.begin(), lengths.end(), std::greater<>());
    }
}

bool CidrSet::contains(const net::IpAddress& a) const {
    return contains(Cidr{a, static_cast<uint8_t>(a.family == 4 ? 32 : 128)});
}

bool CidrSet::contains(const Cidr& c) const {
    if (c.addr.family != 4 && c.addr.family != 6) return false;
    const auto& lengths = c.addr.family == 4 ? lengths4_ : lengths6_;
    for (const uint8_t len : lengths) {
        if (len > c.prefix) continue;
        if (nets_.contains(Key{mask(c.addr, len), len})) return true;
    }
    return false;
}

}  // namespace sybilwatch::rules
