#include "fingerprint/observation_json.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace sybilwatch::fingerprint {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t utf8_len(std::string_view s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2) n = 2;
    else if ((c & 0xF0) == 0xE0) n = 3;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4) n = 4;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
    return n;
}

template <typename T>
void append_num(T v, std::string& out) {
    char tmp[32];
    auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    out.append(tmp, static_cast<size_t>(end - tmp));
}

class Obj {
public:
    explicit Obj(std::string& out) : out_(out) { out_.push_back('{'); }
    void key(std::string_view k) {
        if (!first_) out_.push_back(',');
        first_ = false;
        out_.push_back('"');
        out_.append(k);
        out_.append("\":");
    }
    void str(std::string_view k, std::string_view v) {
        if (v.empty()) return;  // absent, never guessed
        key(k);
        append_json_string(v, out_);
    }
    template <typename T>
    void num(std::string_view k, T v) {
        key(k);
        append_num(v, out_);
    }
    void dbl(std::string_view k, double v) {
        key(k);
        char tmp[32];
        const int n = std::snprintf(tmp, sizeof tmp, "%.1f", v);
        out_.append(tmp, static_cast<size_t>(n));
    }
    // Epoch seconds with microseconds, printed exactly (no floating point).
    void ts(std::string_view k, int64_t ns) {
        key(k);
        append_num(ns / 1'000'000'000, out_);
        // Six digits of microseconds, zero-padded.
        int64_t us = (ns % 1'000'000'000) / 1000;
        char frac[7] = {'.', '0', '0', '0', '0', '0', '0'};
        for (int i = 6; i > 0; --i, us /= 10) frac[i] = static_cast<char>('0' + us % 10);
        out_.append(frac, sizeof frac);
    }
    void addr(std::string_view k, const net::IpAddress& a) {
        std::array<char, net::IpAddress::kMaxText> buf;
        str(k, a.format(buf));
    }
    void close() { out_.push_back('}'); }
    std::string& out() { return out_; }

private:
    std::string& out_;
    bool first_ = true;
};

}  // namespace

void append_json_string(std::string_view s, std::string& out) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
            ++i;
        } else if (size_t n = utf8_len(s, i)) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
            ++i;
        }
    }
    out.push_back('"');
}

void append_json(const Observation& o, std::string& out) {
    Obj j(out);
    j.ts("ts", o.ts_ns);
    j.str("transport", to_string(o.transport));
    j.addr("src", o.src);
    j.num("src_port", o.src_port);
    j.addr("dst", o.dst);
    j.num("dst_port", o.dst_port);
    j.str("sni", o.sni.view());
    j.str("alpn", o.alpn.view());
    j.str("ja4", o.ja4.view());
    j.str("ja4_r", o.ja4_r);
    j.str("ja4_o", o.ja4_o.view());
    j.str("ja4_ro", o.ja4_ro);
    j.str("ja3", o.ja3.view());
    j.str("ja3_full", o.ja3_full);
    j.str("ja4s", o.ja4s.view());
    j.str("ja4s_r", o.ja4s_r);
    j.str("ja4t", o.ja4t.view());
    j.str("ja4ts", o.ja4ts.view());
    j.str("ja4l_c", o.ja4l_c.view());
    j.str("ja4l_s", o.ja4l_s.view());
    j.str("tcp_sig", o.tcp_sig.view());
    if (o.tls_version) j.num("tls_version", o.tls_version);
    if (o.client_ttl) j.num("client_ttl", o.client_ttl);
    if (o.server_ttl) j.num("server_ttl", o.server_ttl);
    if (o.rtt_us >= 0) j.num("rtt_us", o.rtt_us);
    if (o.syn_ns) j.ts(o.transport == Transport::Tcp ? "syn_ts" : "client_initial_ts", o.syn_ns);
    if (o.synack_ns)
        j.ts(o.transport == Transport::Tcp ? "synack_ts" : "server_initial_ts", o.synack_ns);
    if (o.ack_ns) j.ts(o.transport == Transport::Tcp ? "ack_ts" : "client_handshake_ts", o.ack_ns);
    j.str("end", to_string(o.end));

    const Cadence& c = o.cadence;
    j.key("cadence");
    Obj cj(j.out());
    cj.num("requests", c.requests);
    cj.num("responses", c.responses);
    cj.num("client_bytes", c.client_bytes);
    cj.num("server_bytes", c.server_bytes);
    if (c.requests) {
        cj.num("min_request_bytes", c.min_request_bytes);
        cj.num("max_request_bytes", c.max_request_bytes);
    }
    if (c.gap_count) {
        cj.dbl("gap_mean_us", c.gap_mean_us);
        cj.dbl("gap_stddev_us", c.gap_stddev_us());
        cj.num("gap_min_us", c.gap_min_us);
        cj.num("gap_max_us", c.gap_max_us);
    }
    cj.num("duration_us", c.duration_us);
    cj.close();
    j.close();
    out.push_back('\n');
}

}  // namespace sybilwatch::fingerprint
