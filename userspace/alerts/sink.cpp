#include "alerts/sink.hpp"

#include <cstdio>
#include <random>

namespace sybilwatch::alerts {

using Clock = std::chrono::steady_clock;

std::unique_ptr<Sink> Sink::create(SinkOptions options, std::unique_ptr<Transport> transport,
                                   std::string& error) {
    if (!transport) {
        error = "sink " + options.name + ": no transport";
        return nullptr;
    }
    if (!options.log)
        options.log = [](std::string_view m) {
            std::fprintf(stderr, "sybilwatch alerts: %.*s\n", static_cast<int>(m.size()), m.data());
        };
    if (!options.spool.log) options.spool.log = options.log;
    auto spool = Spool::open(options.spool_dir, options.spool, error);
    if (!spool) return nullptr;
    std::unique_ptr<Sink> s(new Sink(std::move(options), std::move(transport), std::move(spool)));
    s->thread_ = std::thread([p = s.get()] { p->run(); });
    return s;
}

Sink::Sink(SinkOptions options, std::unique_ptr<Transport> transport, std::unique_ptr<Spool> spool)
    : opt_(std::move(options)),
      transport_(std::move(transport)),
      spool_(std::move(spool)),
      bucket_(opt_.rate_per_second, opt_.rate_burst) {
    if (const auto r = spool_->stats().recovered_records)
        log(std::to_string(r) + " undelivered findings recovered from the spool");
}

Sink::~Sink() {
    stop();
}

void Sink::log(const std::string& msg) const {
    opt_.log("sink " + opt_.name + ": " + msg);
}

void Sink::set_error(std::string e) {
    std::lock_guard lk(mu_);
    last_error_ = std::move(e);
}

Sink::Outcome Sink::submit(const rules::Finding& f) {
    std::lock_guard lk(submit_mu_);
    if (!opt_.filter.pass(f)) {
        filtered_++;
        return Outcome::Filtered;
    }
    accepted_++;
    render(f, opt_.format, render_buf_, opt_.format_options);
    std::string error;
    if (!spool_->append(render_buf_, error)) {
        dropped_error_++;
        log("finding " + f.finding_id + " not spooled: " + error);
        set_error(std::move(error));
        return Outcome::Failed;
    }
    spooled_++;
    {
        std::lock_guard g(mu_);
        data_ = true;
    }
    cv_.notify_one();
    return Outcome::Spooled;
}

size_t Sink::submit_batch(std::span<const rules::Finding> findings) {
    std::lock_guard lk(submit_mu_);
    size_t n = 0;
    for (const auto& f : findings) {
        if (!opt_.filter.pass(f)) {
            filtered_++;
            continue;
        }
        accepted_++;
        if (batch_buf_.size() <= n) batch_buf_.emplace_back();
        render(f, opt_.format, batch_buf_[n++], opt_.format_options);
    }
    if (n == 0) return 0;
    std::vector<std::string_view> views(batch_buf_.begin(), batch_buf_.begin() + n);
    std::string error;
    const size_t done = spool_->append_batch(views, error);
    spooled_ += done;
    if (done < n) {
        dropped_error_ += n - done;
        log(std::to_string(n - done) + " findings not spooled: " + error);
        set_error(std::move(error));
    }
    if (done) {
        {
            std::lock_guard g(mu_);
            data_ = true;
        }
        cv_.notify_one();
    }
    return done;
}

void Sink::request_stop(Clock::time_point deadline) {
    {
        std::lock_guard lk(mu_);
        if (!stop_) deadline_ = deadline;
        stop_ = true;
    }
    cv_.notify_all();
}

void Sink::join() {
    if (thread_.joinable()) thread_.join();
}

void Sink::stop(std::chrono::milliseconds drain) {
    request_stop(Clock::now() + drain);
    join();
}

bool Sink::should_exit(bool spool_empty) {
    std::lock_guard lk(mu_);
    return stop_ && (spool_empty || Clock::now() >= deadline_);
}

bool Sink::wait_until(Clock::time_point until, bool wake_on_data) {
    std::unique_lock lk(mu_);
    for (;;) {
        const auto now = Clock::now();
        if (stop_ && now >= deadline_) return false;
        // New data first: a stop request still drains what was submitted before it.
        if (wake_on_data && data_) {
            data_ = false;
            return true;
        }
        if (wake_on_data && stop_) return false;  // stopping, and the spool was empty
        if (now >= until) return true;
        const auto limit = stop_ ? std::min(until, deadline_) : until;
        cv_.wait_until(lk, limit);
    }
}

void Sink::run() {
    std::vector<SpoolRecord> batch;
    std::vector<std::string_view> views;
    size_t pos = 0;                // batch[pos..] are read from the spool but not yet delivered
    uint64_t limited_through = 0;  // rate_limited counts each record once
    bool counted_any = false;
    std::mt19937_64 rng(std::random_device{}());
    std::uniform_real_distribution<double> u01(0.0, 1.0);
    const size_t max_batch =
        std::max<size_t>(1, std::min(opt_.max_batch, std::max<size_t>(1, transport_->max_batch())));

    for (;;) {
        if (pos == batch.size()) {
            pos = 0;
            spool_->read(max_batch, opt_.max_batch_bytes, batch);
            if (batch.empty()) {
                if (should_exit(true)) return;
                // Idle until a submit; the timeout also picks up records a read skipped.
                if (!wait_until(Clock::now() + std::chrono::seconds(1), true)) return;
                continue;
            }
        }
        if (should_exit(false)) return;

        const size_t want = batch.size() - pos;
        const size_t n = bucket_.take(want, Clock::now());
        if (n < want) {
            for (size_t i = pos + n; i < batch.size(); ++i)
                if (!counted_any || batch[i].seq > limited_through) {
                    rate_limited_++;
                    limited_through = batch[i].seq;
                    counted_any = true;
                }
        }
        if (n == 0) {
            if (!wait_until(Clock::now() + bucket_.until_one(Clock::now()), false)) return;
            continue;
        }

        views.clear();
        for (size_t i = pos; i < pos + n; ++i)
            views.push_back(batch[i].payload);
        std::string error;
        size_t sent = 0;
        try {
            sent = std::min(n, transport_->send(views, error));
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (sent) {
            spool_->ack(batch[pos + sent - 1].seq + 1);
            delivered_ += sent;
            pos += sent;
        }
        if (sent == n) {
            if (const auto f = failures_.exchange(0))
                log("delivering again after " + std::to_string(f) + " failed attempts");
            continue;
        }
        bucket_.refund(n - sent);
        const uint32_t f = ++failures_;
        retries_++;
        if (error.empty())
            error = "receiver accepted " + std::to_string(sent) + " of " + std::to_string(n);
        // The first failure and then every 10th, not one line per retry while the SIEM is down.
        if (f == 1 || f % 10 == 0)
            log(std::string(transport_->name()) + ": " + error + " (attempt " + std::to_string(f) +
                ", backing off)");
        set_error(std::move(error));
        if (!wait_until(Clock::now() + backoff_delay(opt_.backoff, f, u01(rng)), false)) return;
    }
}

SinkStats Sink::stats() const {
    SinkStats s;
    s.accepted = accepted_;
    s.filtered = filtered_;
    s.spooled = spooled_;
    s.dropped_error = dropped_error_;
    s.rate_limited = rate_limited_;
    s.delivered = delivered_;
    s.retries = retries_;
    s.consecutive_failures = failures_;
    s.spool = spool_->stats();
    s.dropped_full = s.spool.dropped_full;
    s.backlog = s.spool.backlog;
    std::lock_guard lk(mu_);
    s.last_error = last_error_;
    return s;
}

}  // namespace sybilwatch::alerts
