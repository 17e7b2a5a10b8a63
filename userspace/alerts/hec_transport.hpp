// Splunk HTTP Event Collector transport: batches of findings POSTed to
// /services/collector/event as concatenated event objects
//
//   {"time":1712345678.123,"host":"edge-1","source":"sybilwatchd",
//    "sourcetype":"sybilwatch:finding","event":<the rendered finding>}
//
// with "Authorization: Splunk <token>". A payload that is not JSON (CEF) goes in as a string.
//
// What send() accepts:
//   2xx                     the batch (with indexer acknowledgement: once its ackId is acked)
//   429, 408, 5xx, network  nothing; the spool retries with back-off
//   other 4xx               nothing, and the error says why (bad token, disabled token, wrong
//                           index...). Dropping would lose findings silently over a fixable
//                           configuration mistake: they stay spooled until the operator fixes it
//                           (the spool's own limits decide what happens if that takes too long).
//   400 with "invalid-event-number": N   HEC indexed the events before the invalid one; those
//                           N are accepted, the rest is kept.
// With acknowledgement, a batch whose ack does not arrive within ack_timeout is not accepted and
// will be sent again: delivery is at least once, and finding_id + revision identify duplicates.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alerts/http_post.hpp"
#include "alerts/secret.hpp"
#include "alerts/transport.hpp"

namespace sybilwatch::alerts {

struct HecConfig {
    std::string url;     // the collector's base URL, e.g. https://splunk.example.com:8088
    SecretSource token;  // the HEC token (file or environment variable)
    std::string host;    // event "host"; empty: gethostname()
    std::string source = "sybilwatchd";
    std::string sourcetype = "sybilwatch:finding";
    std::string index;  // empty: the token's default index
    bool ack = false;   // indexer acknowledgement (the token must have it enabled)
    // X-Splunk-Request-Channel (a GUID); empty: a random one per process. Sent on every request
    // when ack is on or a channel is configured.
    std::string channel;
    std::chrono::milliseconds ack_timeout{60000};
    std::chrono::milliseconds ack_poll_interval{1000};
    size_t max_batch = 64;
    size_t max_batch_bytes = 1024 * 1024;  // below HEC's max_content_length; one event always goes
    HttpOptions http;
};

struct HecStats {
    uint64_t requests = 0;     // event POSTs
    uint64_t events_sent = 0;  // events accepted (acked, with ack on)
    uint64_t retryable_failures = 0;
    uint64_t rejected = 0;  // non-retryable answers (bad token, bad data)
    uint64_t ack_timeouts = 0;
    uint64_t ack_missing = 0;  // 2xx without ackId although ack is on (token lacks ack)
};

class HecTransport final : public Transport {
  public:
    // nullptr with `error` set on an invalid configuration or an unloadable token; `warnings`
    // gets what should be logged (e.g. a world-readable token file).
    static std::unique_ptr<HecTransport> create(HecConfig config, std::string& error,
                                                std::vector<std::string>& warnings);
    ~HecTransport() override;

    size_t send(std::span<const std::string_view> payloads, std::string& error) override;
    size_t max_batch() const override;
    std::string_view name() const override { return "splunk-hec"; }

    HecStats stats() const;
    const std::string& channel() const;

    struct Impl;

  private:
    explicit HecTransport(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// A random RFC 4122 version 4 UUID (HEC channel identifiers are GUIDs).
std::string random_uuid();

}  // namespace sybilwatch::alerts
