// Window: the one definition of "inside the sliding event-time window" that every rule state
// uses. Times are event times in ns (the observation's ts_ns), never the wall clock.
//
// An event at time t counts at time `now` while   now < q(t) + length,
// where q(t) = t rounded down to a multiple of `resolution`. With resolution 1 ns this is
// exactly "counts while now < t + W": at now = t + W - 1 ns it counts, at now = t + W it no
// longer does. A coarser resolution lets a state keep one counter per slice of time instead of
// one per event (aggregate counts and sums); the event then expires up to one resolution
// early, never late, so a threshold is never met by events older than the window.
#pragma once

#include <algorithm>
#include <cstdint>

#include "rules/divisor.hpp"

namespace sybilwatch::rules {

// Event times and window lengths are kept within +-2^62 ns (year 2116) so that t + W never
// overflows; loaders reject saved times outside it.
inline constexpr int64_t kMaxEventTime = int64_t{1} << 62;
inline constexpr int64_t kMaxWindow = int64_t{1} << 60;
inline bool sane_time(int64_t t) {
    return t >= -kMaxEventTime && t <= kMaxEventTime;
}

struct Window {
    int64_t length_ns = 0;      // W > 0
    int64_t resolution_ns = 1;  // 1 ns = exact; else the slice width, 1 <= resolution <= W
    // resolution_ns as a Divisor when the window was made by of(), sliced() or exact(): the
    // states ask for slices on every observation. A window built field by field falls back to
    // the hardware divide (the divisor then does not match).
    Divisor resolution{};

    // floor(t / resolution): the slice an event falls in (floor, also for negative times).
    int64_t slice(int64_t t) const {
        if (resolution.value() == static_cast<uint64_t>(resolution_ns))
            return resolution.floor_div(t);
        const int64_t q = t / resolution_ns;
        return (t % resolution_ns != 0 && t < 0) ? q - 1 : q;
    }
    int64_t quantize(int64_t t) const { return slice(t) * resolution_ns; }
    // First time at which an event at t no longer counts.
    int64_t expires_at(int64_t t) const { return quantize(t) + length_ns; }
    bool live(int64_t t, int64_t now) const { return now < expires_at(t); }
    // The oldest slice still live at now: slice k is live iff k*res + W > now.
    int64_t first_live_slice(int64_t now) const {
        return slice(std::clamp(now, -kMaxEventTime, kMaxEventTime) - length_ns) + 1;
    }
    // Slices a ring must hold to cover every live slice up to the one containing now.
    int64_t slices_spanned() const { return (length_ns + resolution_ns - 1) / resolution_ns + 1; }

    // A window of `length` and `resolution` (both already within bounds).
    static Window of(int64_t length, int64_t resolution) {
        return Window{length, resolution, Divisor(static_cast<uint64_t>(resolution))};
    }
    // A window of `length` split into about `slices` slices (resolution rounded up to 1 ns).
    static Window sliced(int64_t length, int64_t slices) {
        const int64_t l = std::clamp<int64_t>(length, 1, kMaxWindow);
        return of(l, std::max<int64_t>(1, l / std::max<int64_t>(slices, 1)));
    }
    static Window exact(int64_t length) {
        return of(std::clamp<int64_t>(length, 1, kMaxWindow), 1);
    }
};

}  // namespace sybilwatch::rules
