// One line of the identity feed: the gateway says which account made a request over which
// client connection (DESIGN.md, "Identity feed").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "net/ip_address.hpp"

namespace sybilwatch::identity {

// Bounds on the record's strings. The account comes from the gateway's authentication and is
// rejected when longer; the user agent and request id may come from the client (User-Agent,
// X-Request-ID), so they are truncated instead: a client must not be able to make its own
// attribution record unacceptable by sending a long header.
inline constexpr size_t kMaxAccount = 128;
inline constexpr size_t kMaxUserAgent = 256;
inline constexpr size_t kMaxRequestId = 128;

struct AttributionRecord {
    double ts = 0;             // epoch seconds (the gateway's clock)
    net::IpAddress client_ip;  // IPv4-mapped IPv6 addresses are stored as IPv4
    uint16_t client_port = 0;
    uint16_t server_port = 0;  // 0: not given
    std::string account;
    std::string user_agent;  // empty: not given
    std::string request_id;  // empty: not given

    bool has_server_port() const { return server_port != 0; }
    // ts in nanoseconds, the unit of packet timestamps.
    int64_t ts_ns() const { return static_cast<int64_t>(ts * 1e9); }
};

}  // namespace sybilwatch::identity
