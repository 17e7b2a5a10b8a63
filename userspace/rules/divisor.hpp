// Divisor: division by a positive 64-bit number fixed at setup, for the slice and ring
// arithmetic every observation does in every rule state (which slice a time falls in, where
// that slice sits in a ring): a 64x64->128-bit multiply by a precomputed reciprocal and one
// correction, a few cycles, where a hardware divide takes 15-40 and a dozen run per observation.
//
// With m = floor((2^64 - 1) / d), q' = floor(n * m / 2^64) is floor(n / d) or one less for
// every n < 2^64 (n/d - n*m/2^64 = n * (2^64/d - m) / 2^64 < 1), so one compare fixes it.
#pragma once

#include <cstdint>

namespace sybilwatch::rules {

class Divisor {
  public:
    constexpr Divisor() = default;  // 1
    constexpr explicit Divisor(uint64_t d) : d_(d ? d : 1), m_(UINT64_MAX / (d ? d : 1)) {}

    constexpr uint64_t value() const { return d_; }
    // floor(n / d) for unsigned n.
    constexpr uint64_t div(uint64_t n) const {
        uint64_t q = static_cast<uint64_t>((static_cast<unsigned __int128>(n) * m_) >> 64);
        if (n - q * d_ >= d_) ++q;
        return q;
    }
    // floor(n / d), also for negative n (rounds towards minus infinity).
    constexpr int64_t floor_div(int64_t n) const {
        if (n >= 0) return static_cast<int64_t>(div(static_cast<uint64_t>(n)));
        return -static_cast<int64_t>(div(static_cast<uint64_t>(-(n + 1)))) - 1;
    }
    // n - floor_div(n) * d: in [0, d), also for negative n.
    constexpr uint64_t floor_mod(int64_t n) const {
        // Modulo 2^64: the true result is in [0, d), and no signed product can overflow.
        return static_cast<uint64_t>(n) - static_cast<uint64_t>(floor_div(n)) * d_;
    }

  private:
    uint64_t d_ = 1;
    uint64_t m_ = UINT64_MAX;
};

}  // namespace sybilwatch::rules
