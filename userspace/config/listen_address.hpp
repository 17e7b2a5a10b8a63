// The metrics endpoint's address: "HOST:PORT" with an IPv4 literal, "[IPv6]:PORT" or
// "localhost:PORT". Names other than localhost are refused: a config should not depend on DNS.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sybilwatch::config {

struct ListenAddress {
    std::string host;  // the literal without brackets ("127.0.0.1", "::1"); localhost stays
    uint16_t port = 0;
    bool ipv6 = false;
    bool loopback = false;  // 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, localhost
};

// nullopt when malformed, with `why` set to the reason.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& why);

}  // namespace sybilwatch::config
