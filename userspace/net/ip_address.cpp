#include "net/ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace sybilwatch::net {

IpAddress IpAddress::parse(std::string_view text) {
    IpAddress a;
    char buf[kMaxText + 1];
    if (text.size() > kMaxText) return a;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
        a.family = 4;
    } else if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
        a.family = 6;
    } else {
        a.bytes.fill(0);
    }
    return a;
}

std::string_view IpAddress::format(std::span<char, kMaxText> buf) const {
    if (family == 4) {
        // Dotted quad by hand: inet_ntop goes through sprintf, and this runs per connection.
        char* p = buf.data();
        for (int i = 0; i < 4; ++i) {
            if (i) *p++ = '.';
            p = std::to_chars(p, buf.data() + buf.size(), bytes[i]).ptr;
        }
        return {buf.data(), static_cast<size_t>(p - buf.data())};
    }
    if (family != 6) return {};
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), buf.data(), buf.size()))
        return {};
    return std::string_view(buf.data());
}

std::string IpAddress::to_string() const {
    std::array<char, kMaxText> buf{};
    return std::string(format(buf));
}

}  // namespace sybilwatch::net
