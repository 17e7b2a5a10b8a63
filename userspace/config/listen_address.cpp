#include "config/listen_address.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace sybilwatch::config {

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& why) {
    ListenAddress a;
    std::string_view host;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            why = "expected [IPV6]:PORT";
            return std::nullopt;
        }
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
        a.ipv6 = true;
    } else {
        const size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            why = "expected HOST:PORT";
            return std::nullopt;
        }
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) {
            why = "an IPv6 address needs brackets: [ADDR]:PORT";
            return std::nullopt;
        }
    }
    uint32_t p = 0;
    for (char c : port) {
        if (c < '0' || c > '9' || p > 65535) {
            p = 0;
            break;
        }
        p = p * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port.empty() || p == 0 || p > 65535) {
        why = "port must be 1..65535";
        return std::nullopt;
    }
    a.port = static_cast<uint16_t>(p);
    a.host = std::string(host);
    if (!a.ipv6 && a.host == "localhost") {
        a.loopback = true;
        return a;
    }
    if (a.ipv6) {
        in6_addr v6{};
        if (inet_pton(AF_INET6, a.host.c_str(), &v6) != 1) {
            why = "not an IPv6 address: '" + a.host + "'";
            return std::nullopt;
        }
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        a.loopback =
            IN6_IS_ADDR_LOOPBACK(&v6) ||
            (std::memcmp(v6.s6_addr, kMapped, sizeof kMapped) == 0 && v6.s6_addr[12] == 127);
        return a;
    }
    in_addr v4{};
    if (inet_pton(AF_INET, a.host.c_str(), &v4) != 1) {
        why = "not an IPv4 address or 'localhost': '" + a.host + "'";
        return std::nullopt;
    }
    a.loopback = (ntohl(v4.s_addr) >> 24) == 127;
    return a;
}

}  // namespace sybilwatch::config
