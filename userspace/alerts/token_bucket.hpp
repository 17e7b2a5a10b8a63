// Token bucket: at most `rate` payloads per second on average, `burst` at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

namespace sybilwatch::alerts {

class TokenBucket {
  public:
    using Clock = std::chrono::steady_clock;

    // rate <= 0: unlimited. burst < 1 becomes max(1, rate).
    TokenBucket(double rate, double burst, Clock::time_point now = Clock::now())
        : rate_(rate),
          burst_(burst >= 1 ? burst : std::max(1.0, rate)),
          tokens_(burst_),
          last_(now) {}

    bool unlimited() const { return rate_ <= 0; }

    // Takes up to n whole tokens; returns how many it got.
    size_t take(size_t n, Clock::time_point now) {
        if (unlimited()) return n;
        refill(now);
        const auto got = std::min(n, static_cast<size_t>(tokens_));
        tokens_ -= static_cast<double>(got);
        return got;
    }
    // Gives back tokens taken for payloads that were not sent after all.
    void refund(size_t n) {
        if (!unlimited()) tokens_ = std::min(burst_, tokens_ + static_cast<double>(n));
    }
    // How long until one token is there.
    Clock::duration until_one(Clock::time_point now) {
        if (unlimited()) return Clock::duration::zero();
        refill(now);
        if (tokens_ >= 1) return Clock::duration::zero();
        return std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>((1 - tokens_) / rate_));
    }

  private:
    void refill(Clock::time_point now) {
        if (now > last_) {
            tokens_ = std::min(
                burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
            last_ = now;
        }
    }
    double rate_, burst_, tokens_;
    Clock::time_point last_;
};

}  // namespace sybilwatch::alerts
