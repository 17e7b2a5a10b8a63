#include "capture/ebpf_events.hpp"

#include <algorithm>
#include <cstring>

#include "net/packet.hpp"

namespace sybilwatch::capture {

namespace {

net::IpAddress address(const uint8_t (&bytes)[16], uint8_t family) {
    net::IpAddress a;
    a.family = family;
    // IPv4 sits in the first 4 bytes and the kernel zeroed the rest, as IpAddress keeps it.
    std::memcpy(a.bytes.data(), bytes, family == 4 ? 4 : 16);
    return a;
}

}  // namespace

net::FlowKey flow_key_from(const sw_flow_key& k) {
    // Through FlowKey::of so the canonical order is the engine's by construction.
    net::Packet p;
    p.ip_proto = k.proto;
    p.src = address(k.client_addr, k.family);
    p.dst = address(k.server_addr, k.family);
    p.src_port = k.client_port;
    p.dst_port = k.server_port;
    return net::FlowKey::of(p);
}

fingerprint::Cadence cadence_from(const sw_cadence& c) {
    fingerprint::Cadence out;
    out.requests = c.requests;
    out.responses = c.responses;
    out.client_bytes = c.client_bytes;
    out.server_bytes = c.server_bytes;
    out.max_request_bytes = c.max_request_bytes;
    out.min_request_bytes = c.min_request_bytes;
    if (c.burst_dir == 1) {
        out.max_request_bytes = std::max(out.max_request_bytes, c.burst_bytes);
        if (c.requests == 1 || c.burst_bytes < out.min_request_bytes)
            out.min_request_bytes = c.burst_bytes;
    }
    out.gap_count = c.gap_count;
    if (c.gap_count > 0) {
        // long double keeps 64 bits of mantissa: the cancellation in sumsq - sum²/n stays
        // small for any gap spread a connection can have.
        const long double n = c.gap_count;
        const long double sum = static_cast<long double>(c.gap_sum_us);
        const long double sumsq =
            static_cast<long double>(c.gap_sumsq_hi) * 18446744073709551616.0L +
            static_cast<long double>(c.gap_sumsq_lo);
        const long double mean = sum / n;
        out.gap_mean_us = static_cast<double>(mean);
        out.gap_m2 = static_cast<double>(std::max(0.0L, sumsq - sum * mean));
        out.gap_min_us = c.gap_min_us;
        out.gap_max_us = c.gap_max_us;
    }
    out.duration_us =
        c.last_ns >= c.first_ns ? static_cast<int64_t>((c.last_ns - c.first_ns) / 1000) : 0;
    return out;
}

fingerprint::EndReason end_reason_from(uint32_t reason) {
    switch (reason) {
        case SW_END_FIN:
            return fingerprint::EndReason::Fin;
        case SW_END_RST:
            return fingerprint::EndReason::Rst;
        default:
            return fingerprint::EndReason::Idle;
    }
}

}  // namespace sybilwatch::capture
