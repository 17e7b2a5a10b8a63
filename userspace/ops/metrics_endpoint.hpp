// The Prometheus endpoint: HTTP GET /metrics on a TCP address (loopback by default; the config
// refuses others unless told). Just enough HTTP/1.x for scrapers and curl: one request per
// connection, answered and closed; anything else is 404/405/400.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ops/request_server.hpp"

namespace sybilwatch::ops {

class MetricsEndpoint {
  public:
    using Render = std::function<std::string()>;

    // host: an IPv4 or IPv6 literal, or "localhost"; port 0 picks a free one (tests). Throws
    // std::runtime_error naming the address when it cannot listen.
    MetricsEndpoint(const std::string& host, uint16_t port, Render render);

    int fd() const { return server_.fd(); }
    void poll(int timeout_ms) { server_.poll(timeout_ms); }
    uint16_t port() const { return port_; }  // the bound port
    const RequestServerStats& stats() const { return server_.stats(); }

    // The reply to one HTTP request (exposed for tests).
    static std::string reply(std::string_view request, const Render& render);

  private:
    uint16_t port_ = 0;
    RequestServer server_;
};

}  // namespace sybilwatch::ops
