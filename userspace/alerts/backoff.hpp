// Retry pacing for a sink whose receiver is down: exponential, capped, with jitter so the
// sinks of a fleet that lost the same SIEM do not all come back at the same instant.
#pragma once

#include <chrono>
#include <cstdint>

namespace sybilwatch::alerts {

struct BackoffOptions {
    std::chrono::milliseconds initial{500};
    std::chrono::milliseconds max{60'000};
    double multiplier = 2.0;
    // The delay is drawn from [d * (1 - jitter), d]: some spread, and never less than
    // half the nominal delay with the default.
    double jitter = 0.5;
};

// The wait after `failures` consecutive failed attempts (1 after the first), u01 a uniform
// draw in [0, 1).
std::chrono::nanoseconds backoff_delay(const BackoffOptions& o, uint32_t failures, double u01);

}  // namespace sybilwatch::alerts
