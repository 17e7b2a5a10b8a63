// Sink: one destination for findings — a filter, a format, an on-disk spool and a delivery
// thread that sends the spool's records through a Transport.
//
//   submit(finding) ── filter ── render ── spool (durable: now it counts as emitted)
//                                             │ delivery thread
//                                             ▼
//                        rate limit ── Transport::send ── ack (cursor moves on)
//                                             │ shortfall
//                                             └── back off (exponential, jitter), retry
//
// Rate limit: a finding over the limit is spooled like any other and its delivery waits for
// a token (counted in rate_limited). The limit protects the receiver (SIEM ingest quota,
// syslog floods), and dropping there would break "nothing lost"; the spool's bound stays the
// only place a finding can be dropped, and that is counted.
//
// At least once: a record leaves the spool only after the transport accepted it; a crash or
// stop() in between sends it again after restart. Payloads carry the stable finding_id (and
// revision) for de-duplication downstream.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "alerts/backoff.hpp"
#include "alerts/format.hpp"
#include "alerts/sink_filter.hpp"
#include "alerts/spool.hpp"
#include "alerts/token_bucket.hpp"
#include "alerts/transport.hpp"
#include "rules/finding.hpp"

namespace sybilwatch::alerts {

struct SinkOptions {
    std::string name;  // in logs and metrics
    Format format = Format::Json;
    FormatOptions format_options;
    SinkFilter filter;
    double rate_per_second = 0;  // 0: unlimited
    double rate_burst = 0;       // 0: max(1, rate_per_second)
    std::string spool_dir;       // one directory per sink
    SpoolOptions spool;
    BackoffOptions backoff;
    size_t max_batch = 64;              // also capped by Transport::max_batch()
    size_t max_batch_bytes = 1u << 20;  // payload bytes per send (at least one payload)
    // Failures, recoveries, drops. Default: one line to stderr.
    std::function<void(std::string_view)> log;
};

struct SinkStats {
    uint64_t accepted = 0;       // passed the filter
    uint64_t filtered = 0;       // did not
    uint64_t spooled = 0;        // durable in the spool: emitted
    uint64_t dropped_error = 0;  // accepted but not spooled (disk error, oversize)
    uint64_t rate_limited = 0;   // payloads whose delivery waited for the rate limit
    uint64_t delivered = 0;      // accepted by the receiver (re-deliveries after a restart too)
    uint64_t retries = 0;        // send attempts that fell short and were retried
    uint64_t dropped_full = 0;   // undelivered payloads the full spool dropped, oldest first
    uint64_t backlog = 0;        // in the spool, not yet delivered
    uint32_t consecutive_failures = 0;
    std::string last_error;  // the transport's or the spool's, latest
    SpoolStats spool;
};

class Sink {
  public:
    enum class Outcome { Spooled, Filtered, Failed };

    // Opens the spool (recovering what a previous run left) and starts delivering, which
    // begins with whatever the spool already holds. nullptr and `error` if the spool cannot
    // be opened.
    static std::unique_ptr<Sink> create(SinkOptions options, std::unique_ptr<Transport> transport,
                                        std::string& error);
    ~Sink();  // stop() with no drain time
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    // Thread-safe. Spooled: durable; Failed: counted in dropped_error, logged.
    Outcome submit(const rules::Finding& f);
    // Group commit (one fdatasync); returns how many were spooled.
    size_t submit_batch(std::span<const rules::Finding> findings);

    // Stops delivering: keeps sending what the spool holds until it is empty or the drain
    // time is up, then returns; the rest stays in the spool for the next run. Idempotent.
    void stop(std::chrono::milliseconds drain = std::chrono::milliseconds(0));
    // stop() in two halves, so a router stops all its sinks within one deadline.
    void request_stop(std::chrono::steady_clock::time_point deadline);
    void join();

    SinkStats stats() const;
    const std::string& name() const { return opt_.name; }
    Transport& transport() { return *transport_; }

  private:
    Sink(SinkOptions options, std::unique_ptr<Transport> transport, std::unique_ptr<Spool> spool);
    void run();
    // Sleeps until `until`, a stop request whose deadline passed, or (when wake_on_data) new
    // data. Returns false when the thread should exit.
    bool wait_until(std::chrono::steady_clock::time_point until, bool wake_on_data);
    bool should_exit(bool spool_empty);
    void set_error(std::string e);
    void log(const std::string& msg) const;

    SinkOptions opt_;
    std::unique_ptr<Transport> transport_;
    std::unique_ptr<Spool> spool_;
    TokenBucket bucket_;  // delivery thread only

    std::mutex submit_mu_;
    std::string render_buf_;
    std::vector<std::string> batch_buf_;

    mutable std::mutex mu_;  // stop_, deadline_, data_, last_error_
    std::condition_variable cv_;
    bool stop_ = false;
    bool data_ = false;
    std::chrono::steady_clock::time_point deadline_;
    std::string last_error_;

    std::atomic<uint64_t> accepted_{0}, filtered_{0}, spooled_{0}, dropped_error_{0},
        rate_limited_{0}, delivered_{0}, retries_{0};
    std::atomic<uint32_t> failures_{0};
    std::thread thread_;
};

}  // namespace sybilwatch::alerts
