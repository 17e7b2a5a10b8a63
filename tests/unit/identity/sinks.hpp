// Test sinks that record what the identity module passes on.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "identity/attributed_observation.hpp"
#include "identity/line_sink.hpp"

namespace sybilwatch::identity::test {

struct Lines : LineSink {
    std::vector<std::string> lines;
    int too_long = 0;
    void on_line(std::string_view l) override { lines.emplace_back(l); }
    void on_line_too_long() override { ++too_long; }
};

struct Emitted {
    net::IpAddress src;
    uint16_t src_port;
    uint16_t dst_port;
    int64_t ts_ns;
    std::string account, user_agent, request_id;
    double record_ts;
};

struct Late {
    net::IpAddress ip;
    uint16_t port;
    int64_t connection_ts_ns;
    std::string account;
};

struct Attributed : AttributedSink {
    std::vector<Emitted> out;
    std::vector<Late> late;
    void on_attributed(const AttributedObservation& a) override {
        out.push_back({a.obs.src, a.obs.src_port, a.obs.dst_port, a.obs.ts_ns,
                       std::string(a.account), std::string(a.user_agent), std::string(a.request_id),
                       a.record_ts});
    }
    void on_late_attribution(const LateAttribution& l) override {
        late.push_back({l.client_ip, l.client_port, l.connection_ts_ns, std::string(l.account)});
    }
};

}  // namespace sybilwatch::identity::test
