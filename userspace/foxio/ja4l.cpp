#include "foxio/ja4l.hpp"

#include <array>

#include "fingerprint/text_writer.hpp"

namespace sybilwatch::foxio {

void ja4l(int64_t earlier_ns, int64_t later_ns, uint8_t ttl, fingerprint::FixedString<24>& out) {
    out.clear();
    if (earlier_ns <= 0 || later_ns < earlier_ns || ttl == 0) return;
    // Half the round trip, rounded to the nearest microsecond.
    const int64_t us = (later_ns - earlier_ns + 1000) / 2000;
    std::array<char, 24> buf;
    fingerprint::TextWriter w(buf);
    w.num(us).put('_').num(ttl);
    out.assign(w.view());
}

}  // namespace sybilwatch::foxio
