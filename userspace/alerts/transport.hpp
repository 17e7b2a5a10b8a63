// Transport: how a sink's rendered payloads reach the receiver (file, stdout, syslog, Splunk
// HEC, webhook). The delivery side (spool, retries, back-off) is the same for all of them and
// calls send() from its own thread; a transport only moves bytes and says what was accepted.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace sybilwatch::alerts {

class Transport {
  public:
    virtual ~Transport() = default;
    // Sends payloads in order (each one rendered finding: JSON, CEF, ...). Returns how many of
    // the leading payloads the receiver accepted; the rest are retried later. On a shortfall,
    // `error` says why (never containing secrets).
    virtual size_t send(std::span<const std::string_view> payloads, std::string& error) = 0;
    // Largest batch send() should be given (HEC batches; syslog sends one frame per payload).
    virtual size_t max_batch() const { return 64; }
    virtual std::string_view name() const = 0;
};

}  // namespace sybilwatch::alerts
