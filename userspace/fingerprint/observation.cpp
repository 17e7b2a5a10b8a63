#include "fingerprint/observation.hpp"

#include <cmath>

namespace sybilwatch::fingerprint {

const char* to_string(Transport t) {
    switch (t) {
        case Transport::Tcp:
            return "tcp";
        case Transport::Quic:
            return "quic";
        case Transport::Dtls:
            return "dtls";
    }
    return "?";
}

const char* to_string(EndReason r) {
    switch (r) {
        case EndReason::Open:
            return "open";
        case EndReason::Fin:
            return "fin";
        case EndReason::Rst:
            return "rst";
        case EndReason::Idle:
            return "idle";
        case EndReason::Evicted:
            return "evicted";
        case EndReason::EndOfCapture:
            return "end_of_capture";
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
    // Field by field: assigning a fresh Observation would copy (and zero) 1.6 KB per connection,
    // and the raw strings keep their capacity this way.
    ts_ns = 0;
    transport = Transport::Tcp;
    src = dst = {};
    src_port = dst_port = 0;
    for (auto* f : {&ja4, &ja4_o, &ja4s})
        f->clear();
    sni.clear();
    alpn.clear();
    ja3.clear();
    ja4t.clear();
    ja4ts.clear();
    ja4l_c.clear();
    ja4l_s.clear();
    tcp_sig.clear();
    tls_version = 0;
    ja4_r.clear();
    ja4_ro.clear();
    ja3_full.clear();
    ja4s_r.clear();
    syn_ns = synack_ns = ack_ns = 0;
    client_ttl = server_ttl = 0;
    rtt_us = -1;
    cadence = {};
    end = EndReason::Open;
    client_hello_seen = server_hello_seen = syn_seen = false;
}

}  // namespace sybilwatch::fingerprint
