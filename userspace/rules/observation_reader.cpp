#include "rules/observation_reader.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "identity/attribution_record.hpp"

namespace sybilwatch::rules {

namespace {

using json = nlohmann::json;

// Deeper nesting than this is refused before parsing: the format nests two levels, and a
// hostile line of a million '[' must not cost a deep recursion anywhere.
constexpr int kMaxDepth = 8;
// Epoch seconds beyond this do not fit int64 nanoseconds.
constexpr double kMaxEpochSeconds = 9.2e9;
// Raw JA4/JA3 strings (not fixed-size in Observation): bounded all the same.
constexpr size_t kMaxRawString = 8192;

bool too_deep(std::string_view s) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > kMaxDepth) return true;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return false;
}

// Whole numbers without a fraction or exponent: "0..9200000000", not "0.000000..9.2e+09".
std::string num_text(double d) {
    if (d == std::floor(d) && std::abs(d) < 1e18) return std::to_string(static_cast<int64_t>(d));
    return std::to_string(d);
}

class Fields {
  public:
    explicit Fields(std::string& error) : error_(error) {}

    bool fail(std::string_view key, std::string_view what) {
        if (error_.empty()) error_ = "field '" + std::string(key) + "': " + std::string(what);
        return false;
    }

    // An integer in [lo, hi]; an integral float is taken too (other tools write 443.0).
    bool integer(std::string_view key, const json& v, int64_t lo, int64_t hi, int64_t& out) {
        const std::string range =
            "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
        if (v.is_number_unsigned()) {
            const uint64_t u = v.get<uint64_t>();
            if (u > static_cast<uint64_t>(hi)) return fail(key, range);
            out = static_cast<int64_t>(u);
        } else if (v.is_number_integer()) {
            out = v.get<int64_t>();
        } else if (v.is_number_float()) {
            const double d = v.get<double>();
            if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) ||
                d > static_cast<double>(hi))
                return fail(key, range);
            out = static_cast<int64_t>(d);
        } else {
            return fail(key, range);
        }
        if (out < lo || out > hi) return fail(key, range);
        return true;
    }

    template <typename T>
    bool unsigned_field(std::string_view key, const json& v, T& out) {
        int64_t x = 0;
        constexpr uint64_t max = std::numeric_limits<T>::max();
        const int64_t hi =
            max > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(max);
        if (!integer(key, v, 0, hi, x)) return false;
        out = static_cast<T>(x);
        return true;
    }

    bool number(std::string_view key, const json& v, double lo, double hi, double& out) {
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo ||
            v.get<double>() > hi)
            return fail(key, "must be a number in " + num_text(lo) + ".." + num_text(hi));
        out = v.get<double>();
        return true;
    }

    // Epoch seconds (integer or with a fraction, microseconds kept) -> nanoseconds.
    bool epoch(std::string_view key, const json& v, int64_t& ns) {
        double d = 0;
        if (!number(key, v, 0, kMaxEpochSeconds, d)) return false;
        if (v.is_number_integer())
            ns = v.get<int64_t>() * 1'000'000'000;
        else
            ns = std::llround(d * 1e6) * 1000;
        return true;
    }

    bool text(std::string_view key, const json& v, size_t max, std::string_view& out) {
        if (!v.is_string()) return fail(key, "must be a string");
        const std::string& s = v.get_ref<const std::string&>();
        if (s.size() > max) return fail(key, "longer than " + std::to_string(max) + " bytes");
        out = s;
        return true;
    }

    template <size_t N>
    bool fixed(std::string_view key, const json& v, fingerprint::FixedString<N>& out) {
        std::string_view s;
        if (!text(key, v, N, s)) return false;
        out.assign(s);
        return true;
    }

    bool string(std::string_view key, const json& v, size_t max, std::string& out) {
        std::string_view s;
        if (!text(key, v, max, s)) return false;
        out.assign(s);
        return true;
    }

    bool address(std::string_view key, const json& v, net::IpAddress& out) {
        std::string_view s;
        if (!text(key, v, 64, s)) return false;
        out = net::IpAddress::parse(s);
        if (out.family == 0) return fail(key, "not an IPv4 or IPv6 address");
        return true;
    }

  private:
    std::string& error_;
};

bool read_cadence(const json& c, fingerprint::Cadence& cad, Fields& f) {
    if (!c.is_object()) return f.fail("cadence", "must be an object");
    bool has_mean = false, has_stddev = false, has_count = false;
    double stddev = 0;
    for (const auto& [k, v] : c.items()) {
        const std::string key = "cadence." + k;
        bool ok = true;
        if (k == "requests")
            ok = f.unsigned_field(key, v, cad.requests);
        else if (k == "responses")
            ok = f.unsigned_field(key, v, cad.responses);
        else if (k == "client_bytes")
            ok = f.unsigned_field(key, v, cad.client_bytes);
        else if (k == "server_bytes")
            ok = f.unsigned_field(key, v, cad.server_bytes);
        else if (k == "min_request_bytes")
            ok = f.unsigned_field(key, v, cad.min_request_bytes);
        else if (k == "max_request_bytes")
            ok = f.unsigned_field(key, v, cad.max_request_bytes);
        else if (k == "gap_count")  // not printed by tail; test cases may give it
            ok = has_count = f.unsigned_field(key, v, cad.gap_count);
        else if (k == "gap_mean_us")
            ok = has_mean = f.number(key, v, 0, 1e15, cad.gap_mean_us);
        else if (k == "gap_stddev_us")
            ok = has_stddev = f.number(key, v, 0, 1e15, stddev);
        else if (k == "gap_min_us")
            ok = f.unsigned_field(key, v, cad.gap_min_us);
        else if (k == "gap_max_us")
            ok = f.unsigned_field(key, v, cad.gap_max_us);
        else if (k == "duration_us") {
            int64_t d = 0;
            ok = f.integer(key, v, 0, INT64_MAX, d);
            cad.duration_us = d;
        }
        if (!ok) return false;
    }
    // The printed form has the mean and standard deviation but not the number of gaps:
    // gaps are between request starts, so there are requests - 1 of them.
    if (!has_count && (has_mean || has_stddev))
        cad.gap_count = cad.requests >= 2 ? cad.requests - 1 : 1;
    if (has_stddev && stddev > 0 && cad.gap_count < 2) cad.gap_count = 2;
    if (!has_mean && !has_stddev && !has_count) cad.gap_count = 0;
    if (cad.gap_count >= 2) cad.gap_m2 = stddev * stddev * (cad.gap_count - 1);
    return true;
}

}  // namespace

std::string parse_observation(std::string_view text, ObservationLine& out) {
    if (text.size() > kMaxObservationLine)
        return "longer than " + std::to_string(kMaxObservationLine) + " bytes";
    if (too_deep(text)) return "nested deeper than " + std::to_string(kMaxDepth) + " levels";
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        // "[json.exception.parse_error.101] parse error at line 1, column 4: ..." -> the part
        // after the prefix; the caller adds the line number.
        std::string m = e.what();
        if (const size_t p = m.find("] "); p != std::string::npos) m.erase(0, p + 2);
        return "not valid JSON: " + m;
    }
    return observation_from_json(j, out);
}

std::string observation_from_json(const json& j, ObservationLine& out) {
    out.obs.clear();
    out.account.clear();
    out.user_agent.clear();
    out.request_id.clear();
    if (!j.is_object()) return "not a JSON object";

    std::string error;
    Fields f(error);
    fingerprint::Observation& o = out.obs;
    bool has_ts = false;
    for (const auto& [k, v] : j.items()) {
        if (v.is_null()) continue;  // written by some tools for "absent"
        bool ok = true;
        int64_t x = 0;
        if (k == "ts") {
            ok = has_ts = f.epoch(k, v, o.ts_ns);
        } else if (k == "transport") {
            std::string_view s;
            ok = f.text(k, v, 8, s);
            if (ok && s == "tcp")
                o.transport = fingerprint::Transport::Tcp;
            else if (ok && s == "quic")
                o.transport = fingerprint::Transport::Quic;
            else if (ok && s == "dtls")
                o.transport = fingerprint::Transport::Dtls;
            else if (ok)
                ok = f.fail(k, "must be tcp, quic or dtls");
        } else if (k == "src") {
            ok = f.address(k, v, o.src);
        } else if (k == "dst") {
            ok = f.address(k, v, o.dst);
        } else if (k == "src_port") {
            ok = f.unsigned_field(k, v, o.src_port);
        } else if (k == "dst_port") {
            ok = f.unsigned_field(k, v, o.dst_port);
        } else if (k == "sni") {
            ok = f.fixed(k, v, o.sni);
        } else if (k == "alpn") {
            ok = f.fixed(k, v, o.alpn);
        } else if (k == "ja4") {
            ok = f.fixed(k, v, o.ja4);
        } else if (k == "ja4_o") {
            ok = f.fixed(k, v, o.ja4_o);
        } else if (k == "ja3") {
            ok = f.fixed(k, v, o.ja3);
        } else if (k == "ja4s") {
            ok = f.fixed(k, v, o.ja4s);
        } else if (k == "ja4t") {
            ok = f.fixed(k, v, o.ja4t);
        } else if (k == "ja4ts") {
            ok = f.fixed(k, v, o.ja4ts);
        } else if (k == "ja4l_c") {
            ok = f.fixed(k, v, o.ja4l_c);
        } else if (k == "ja4l_s") {
            ok = f.fixed(k, v, o.ja4l_s);
        } else if (k == "tcp_sig") {
            ok = f.fixed(k, v, o.tcp_sig);
        } else if (k == "ja4_r") {
            ok = f.string(k, v, kMaxRawString, o.ja4_r);
        } else if (k == "ja4_ro") {
            ok = f.string(k, v, kMaxRawString, o.ja4_ro);
        } else if (k == "ja3_full") {
            ok = f.string(k, v, kMaxRawString, o.ja3_full);
        } else if (k == "ja4s_r") {
            ok = f.string(k, v, kMaxRawString, o.ja4s_r);
        } else if (k == "tls_version") {
            ok = f.unsigned_field(k, v, o.tls_version);
        } else if (k == "client_ttl") {
            ok = f.unsigned_field(k, v, o.client_ttl);
        } else if (k == "server_ttl") {
            ok = f.unsigned_field(k, v, o.server_ttl);
        } else if (k == "rtt_us") {
            // Up to an hour: anything longer is not a round trip.
            ok = f.integer(k, v, 0, 3'600'000'000, x);
            o.rtt_us = x;
        } else if (k == "syn_ts" || k == "client_initial_ts") {
            ok = f.epoch(k, v, o.syn_ns);
        } else if (k == "synack_ts" || k == "server_initial_ts") {
            ok = f.epoch(k, v, o.synack_ns);
        } else if (k == "ack_ts" || k == "client_handshake_ts") {
            ok = f.epoch(k, v, o.ack_ns);
        } else if (k == "end") {
            std::string_view s;
            ok = f.text(k, v, 16, s);
            using E = fingerprint::EndReason;
            bool known = false;
            for (E e : {E::Open, E::Fin, E::Rst, E::Idle, E::Evicted, E::EndOfCapture}) {
                if (ok && s == fingerprint::to_string(e)) {
                    o.end = e;
                    known = true;
                }
            }
            if (ok && !known) ok = f.fail(k, "unknown end reason");
        } else if (k == "cadence") {
            ok = read_cadence(v, o.cadence, f);
        } else if (k == "account") {
            ok = f.string(k, v, identity::kMaxAccount, out.account);
        } else if (k == "user_agent") {
            ok = f.string(k, v, identity::kMaxUserAgent, out.user_agent);
        } else if (k == "request_id") {
            ok = f.string(k, v, identity::kMaxRequestId, out.request_id);
        }
        if (!ok) return error;
    }
    if (!has_ts) return "field 'ts' is missing (epoch seconds of the connection)";
    o.client_hello_seen = !o.ja4.empty();
    o.server_hello_seen = !o.ja4s.empty();
    o.syn_seen = o.syn_ns != 0 || !o.tcp_sig.empty();
    return {};
}

bool ObservationReader::next(ObservationLine& out) {
    if (!error_.empty()) return false;
    while (true) {
        buf_.clear();
        // Bounded read: a line longer than the limit is an error, not a large allocation.
        int c;
        bool any = false, too_long = false;
        while ((c = in_.get()) != std::char_traits<char>::eof()) {
            any = true;
            if (c == '\n') break;
            if (buf_.size() > kMaxObservationLine)
                too_long = true;
            else
                buf_.push_back(static_cast<char>(c));
        }
        if (!any) return false;
        ++line_;
        if (too_long) {
            error_ = "line " + std::to_string(line_) + ": longer than " +
                     std::to_string(kMaxObservationLine) + " bytes";
            return false;
        }
        if (buf_.find_first_not_of(" \t\r") == std::string::npos) continue;
        const std::string e = parse_observation(buf_, out);
        if (e.empty()) return true;
        error_ = "line " + std::to_string(line_) + ": " + e;
        return false;
    }
}

}  // namespace sybilwatch::rules
