#include "fingerprint/observation.hpp"

#include <cmath>

namespace sybilwatch::fingerprint {

const char* to_string(Transport t) {
    switch (t) {
        case Transport::Tcp: return "tcp";
        case Transport::Quic: return "quic";
        case Transport::Dtls: return "dtls";
    }
    return "?";
}

const char* to_string(EndReason r) {
    switch (r) {
        case EndReason::Open: return "open";
        case EndReason::Fin: return "fin";
        case EndReason::Rst: return "rst";
        case EndReason::Idle: return "idle";
        case EndReason::Evicted: return "evicted";
        case EndReason::EndOfCapture: return "end_of_capture";
    }
    return "?";
}

double Cadence::gap_stddev_us() const {
    return gap_count > 1 ? std::sqrt(gap_m2 / (gap_count - 1)) : 0.0;
}

void Cadence::add_gap(uint64_t gap_us) {
    ++gap_count;
    const double x = static_cast<double>(gap_us);
    const double delta = x - gap_mean_us;
    gap_mean_us += delta / gap_count;
    gap_m2 += delta * (x - gap_mean_us);
    if (gap_count == 1 || gap_us < gap_min_us) gap_min_us = gap_us;
    if (gap_us > gap_max_us) gap_max_us = gap_us;
}

void Observation::clear() {
    // Keep the raw strings' capacity: clear() rather than reassigning the whole object.
    std::string r = std::move(ja4_r), ro = std::move(ja4_ro), jf = std::move(ja3_full),
                sr = std::move(ja4s_r);
    *this = Observation{};
    ja4_r = std::move(r);
    ja4_ro = std::move(ro);
    ja3_full = std::move(jf);
    ja4s_r = std::move(sr);
    ja4_r.clear();
    ja4_ro.clear();
    ja3_full.clear();
    ja4s_r.clear();
}

}  // namespace sybilwatch::fingerprint
