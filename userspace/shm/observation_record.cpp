#include "shm/observation_record.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace sybilwatch::shm {

namespace {

using fingerprint::EndReason;
using fingerprint::Transport;

template <size_t N, size_t M>
void put(RecordString<N>& dst, const fingerprint::FixedString<M>& src) {
    static_assert(M <= N, "a record string must hold the whole Observation field");
    dst.assign(src.view());
}

template <size_t N, size_t M>
bool get(const RecordString<N>& src, fingerprint::FixedString<M>& dst) {
    static_assert(N <= M);
    dst.assign(src.view());  // view() is clamped to N <= M: always stored
    return src.valid();
}

void put_addr(const net::IpAddress& a, uint8_t& family, uint8_t (&bytes)[16]) {
    family = a.family;
    std::memcpy(bytes, a.bytes.data(), 16);
}

bool get_addr(uint8_t family, const uint8_t (&bytes)[16], net::IpAddress& a) {
    a = {};
    if (family == 4) {
        a.family = 4;
        std::memcpy(a.bytes.data(), bytes, 4);  // the rest stays zero, as IpAddress::v4 makes it
    } else if (family == 6) {
        a.family = 6;
        std::memcpy(a.bytes.data(), bytes, 16);
    } else {
        return family == 0;
    }
    return true;
}

// Bounds that keep every later use defined: the JSON writer converts round(x * 10) to int64 and
// takes sqrt(m2 / (n - 1)). Legitimate values are far inside them (1e15 µs is 31 years).
bool get_double(uint64_t bits, double max, double& out) {
    const double v = std::bit_cast<double>(bits);
    if (std::isfinite(v) && v >= 0 && v <= max) {
        out = v;
        return true;
    }
    out = 0;
    return false;
}

// The longest prefix of `s` that fits in `n` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t n) {
    if (s.size() <= n) return s;
    size_t cut = n;
    // Back off over continuation bytes (10xxxxxx) so the cut lands on a sequence start.
    for (int k = 0; k < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; ++k)
        --cut;
    return s.substr(0, cut);
}

}  // namespace

void to_record(const fingerprint::Observation& o, ObservationRecord& r, std::string_view account,
               std::string_view user_agent) {
    r.ts_ns = o.ts_ns;
    r.syn_ns = o.syn_ns;
    r.synack_ns = o.synack_ns;
    r.ack_ns = o.ack_ns;
    r.rtt_us = o.rtt_us;
    const fingerprint::Cadence& c = o.cadence;
    r.client_bytes = c.client_bytes;
    r.server_bytes = c.server_bytes;
    r.gap_mean_us_bits = std::bit_cast<uint64_t>(c.gap_mean_us);
    r.gap_m2_bits = std::bit_cast<uint64_t>(c.gap_m2);
    r.gap_min_us = c.gap_min_us;
    r.gap_max_us = c.gap_max_us;
    r.duration_us = c.duration_us;
    r.requests = c.requests;
    r.responses = c.responses;
    r.max_request_bytes = c.max_request_bytes;
    r.min_request_bytes = c.min_request_bytes;
    r.gap_count = c.gap_count;
    r.src_port = o.src_port;
    r.dst_port = o.dst_port;
    r.tls_version = o.tls_version;
    r.transport = static_cast<uint8_t>(o.transport);
    r.end = static_cast<uint8_t>(o.end);
    r.client_ttl = o.client_ttl;
    r.server_ttl = o.server_ttl;
    put_addr(o.src, r.src_family, r.src_addr);
    put_addr(o.dst, r.dst_family, r.dst_addr);
    r.reserved = 0;
    put(r.sni, o.sni);
    put(r.alpn, o.alpn);
    put(r.ja4, o.ja4);
    put(r.ja4_o, o.ja4_o);
    put(r.ja3, o.ja3);
    put(r.ja4s, o.ja4s);
    put(r.ja4t, o.ja4t);
    put(r.ja4ts, o.ja4ts);
    put(r.ja4l_c, o.ja4l_c);
    put(r.ja4l_s, o.ja4l_s);
    put(r.tcp_sig, o.tcp_sig);
    uint8_t flags = 0;
    if (o.client_hello_seen) flags |= kClientHelloSeen;
    if (o.server_hello_seen) flags |= kServerHelloSeen;
    if (o.syn_seen) flags |= kSynSeen;
    // An account id cut short could name a different account: absent instead.
    if (!r.account.assign(account)) flags |= kAccountTooLong;
    const std::string_view ua = utf8_prefix(user_agent, decltype(r.user_agent)::capacity);
    if (ua.size() < user_agent.size()) flags |= kUserAgentTruncated;
    r.user_agent.assign(ua);
    r.flags = flags;
    std::memset(r.tail_reserved, 0, sizeof r.tail_reserved);
}

bool to_observation(const ObservationRecord& r, fingerprint::Observation& o) {
    o.clear();
    bool ok = true;
    o.ts_ns = r.ts_ns;
    o.syn_ns = r.syn_ns;
    o.synack_ns = r.synack_ns;
    o.ack_ns = r.ack_ns;
    o.rtt_us = r.rtt_us;
    fingerprint::Cadence& c = o.cadence;
    c.client_bytes = r.client_bytes;
    c.server_bytes = r.server_bytes;
    ok &= get_double(r.gap_mean_us_bits, 1e15, c.gap_mean_us);
    ok &= get_double(r.gap_m2_bits, 1e30, c.gap_m2);
    c.gap_min_us = r.gap_min_us;
    c.gap_max_us = r.gap_max_us;
    c.duration_us = r.duration_us;
    c.requests = r.requests;
    c.responses = r.responses;
    c.max_request_bytes = r.max_request_bytes;
    c.min_request_bytes = r.min_request_bytes;
    c.gap_count = r.gap_count;
    o.src_port = r.src_port;
    o.dst_port = r.dst_port;
    o.tls_version = r.tls_version;
    if (r.transport <= static_cast<uint8_t>(Transport::Dtls)) {
        o.transport = static_cast<Transport>(r.transport);
    } else {
        ok = false;
    }
    if (r.end <= static_cast<uint8_t>(EndReason::EndOfCapture)) {
        o.end = static_cast<EndReason>(r.end);
    } else {
        ok = false;
    }
    o.client_ttl = r.client_ttl;
    o.server_ttl = r.server_ttl;
    ok &= get_addr(r.src_family, r.src_addr, o.src);
    ok &= get_addr(r.dst_family, r.dst_addr, o.dst);
    ok &= get(r.sni, o.sni);
    ok &= get(r.alpn, o.alpn);
    ok &= get(r.ja4, o.ja4);
    ok &= get(r.ja4_o, o.ja4_o);
    ok &= get(r.ja3, o.ja3);
    ok &= get(r.ja4s, o.ja4s);
    ok &= get(r.ja4t, o.ja4t);
    ok &= get(r.ja4ts, o.ja4ts);
    ok &= get(r.ja4l_c, o.ja4l_c);
    ok &= get(r.ja4l_s, o.ja4l_s);
    ok &= get(r.tcp_sig, o.tcp_sig);
    ok &= r.account.valid() && r.user_agent.valid();
    o.client_hello_seen = (r.flags & kClientHelloSeen) != 0;
    o.server_hello_seen = (r.flags & kServerHelloSeen) != 0;
    o.syn_seen = (r.flags & kSynSeen) != 0;
    return ok;
}

}  // namespace sybilwatch::shm
