// Generic HTTPS webhook: each finding POSTed as its JSON document (or, with `batch`, up to
// max_batch findings as one JSON array), signed so the receiver can check who sent it:
//
//   X-Sybilwatch-Timestamp: <unix seconds>
//   X-Sybilwatch-Signature: sha256=<hex HMAC-SHA256(key, timestamp + "." + body)>
//   X-Sybilwatch-Delivery:  <first 32 hex of SHA-256(body)>  (same on every retry: dedupe key)
//
// One finding per request is the default: it is what ticketing/SOAR webhooks expect, and the
// signature then covers exactly the document the receiver acts on. Non-JSON payloads (CEF) are
// sent as a JSON string. Status handling matches the HEC transport: 2xx accepted; 408, 429,
// 5xx and network errors retried; other answers kept and reported (never dropped silently).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "alerts/http_post.hpp"
#include "alerts/secret.hpp"
#include "alerts/transport.hpp"

namespace sybilwatch::alerts {

struct WebhookConfig {
    std::string url;
    // The HMAC key. Without one (both fields empty) requests go unsigned and create() warns.
    SecretSource key;
    // Extra headers, e.g. {"X-Team", "fraud"}. Names must be HTTP tokens, values printable; the
    // X-Sybilwatch-* headers, Content-Type, Content-Length, Host and Transfer-Encoding are ours.
    std::vector<std::pair<std::string, std::string>> headers;
    bool batch = false;
    size_t max_batch = 64;  // with batch
    HttpOptions http;
};

struct WebhookStats {
    uint64_t requests = 0;
    uint64_t findings_sent = 0;
    uint64_t retryable_failures = 0;
    uint64_t rejected = 0;
};

class WebhookTransport final : public Transport {
  public:
    static std::unique_ptr<WebhookTransport> create(WebhookConfig config, std::string& error,
                                                    std::vector<std::string>& warnings);
    ~WebhookTransport() override;

    size_t send(std::span<const std::string_view> payloads, std::string& error) override;
    size_t max_batch() const override;
    std::string_view name() const override { return "webhook"; }

    WebhookStats stats() const;

    struct Impl;

  private:
    explicit WebhookTransport(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sybilwatch::alerts
