// What the joiner passes on: the connection's Observation with the account that used it.
// Observation itself has no account field yet; until it does, the account travels beside it.
#pragma once

#include <cstdint>
#include <string_view>

#include "fingerprint/observation.hpp"
#include "net/ip_address.hpp"

namespace sybilwatch::identity {

struct AttributedObservation {
    const fingerprint::Observation& obs;
    // Empty when no record named the connection within the wait.
    std::string_view account;
    std::string_view user_agent;
    std::string_view request_id;
    double record_ts = 0;  // the matched record's ts (epoch seconds); 0 when unattributed

    bool attributed() const { return !account.empty(); }
};

// A record that named a connection after the connection was passed on without an account.
// The observation is not sent again; this lets a consumer that keeps per-connection state
// (or just a log) learn the account late.
struct LateAttribution {
    net::IpAddress client_ip;
    uint16_t client_port = 0;
    uint16_t server_port = 0;
    int64_t connection_ts_ns = 0;  // the Observation's ts_ns
    double record_ts = 0;
    std::string_view account;
    std::string_view user_agent;
    std::string_view request_id;
};

class AttributedSink {
  public:
    virtual ~AttributedSink() = default;
    virtual void on_attributed(const AttributedObservation& a) = 0;
    virtual void on_late_attribution(const LateAttribution&) {}
};

}  // namespace sybilwatch::identity
