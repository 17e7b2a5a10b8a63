#include "alerts/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace sybilwatch::alerts {

std::chrono::nanoseconds backoff_delay(const BackoffOptions& o, uint32_t failures, double u01) {
    const double initial = static_cast<double>(std::chrono::nanoseconds(o.initial).count());
    const double cap = static_cast<double>(std::chrono::nanoseconds(o.max).count());
    const double mult = std::max(1.0, o.multiplier);
    // pow of a capped exponent: no overflow however long the receiver stays down.
    const double exp = std::min<double>(failures ? failures - 1 : 0, 200);
    const double nominal = std::min(cap, initial * std::pow(mult, exp));
    const double jitter = std::clamp(o.jitter, 0.0, 1.0);
    const double d = nominal * (1.0 - jitter * std::clamp(u01, 0.0, 1.0));
    return std::chrono::nanoseconds(static_cast<int64_t>(std::max(0.0, d)));
}

}  // namespace sybilwatch::alerts
