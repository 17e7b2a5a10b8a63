// Identity-feed lines on untrusted bytes: the record parser must never crash and never accept a
// record that breaks its contract. Every accepted record is checked against an independent
// reading of the same line (nlohmann's DOM parser) and against the documented bounds. The input
// is also cut into lines and fed through the joiner, whose accounting must stay balanced.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "identity/attribution_feed.hpp"
#include "identity/joiner.hpp"
#include "identity/line_splitter.hpp"
#include "identity/record_parser.hpp"
#include "identity/timestamp_text.hpp"

using namespace sybilwatch;
using namespace sybilwatch::identity;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (n == 9 || i + n >= s.size()) return false;
        for (size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

bool has_control(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    return false;
}

net::IpAddress normalized(const std::string& text) {
    net::IpAddress a = net::IpAddress::parse(text);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a.family == 6 && std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
        net::IpAddress v4;
        v4.family = 4;
        std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
        return v4;
    }
    return a;
}

uint16_t port_of(const nlohmann::json& v) {
    if (v.is_number_unsigned()) return static_cast<uint16_t>(v.get<uint64_t>());
    check(v.is_string());
    return static_cast<uint16_t>(std::stoul(v.get<std::string>()));
}

// An accepted record agrees with the DOM reading of the line and with the documented bounds.
void verify(std::string_view line, const AttributionRecord& r) {
    check(std::isfinite(r.ts) && r.ts >= 0 && r.ts <= kMaxEpochSeconds);
    check(r.client_ip.family == 4 || r.client_ip.family == 6);
    check(r.client_port != 0);
    check(!r.account.empty() && r.account != "-" && r.account.size() <= kMaxAccount);
    check(!has_control(r.account) && valid_utf8(r.account));
    check(r.user_agent.size() <= kMaxUserAgent && !has_control(r.user_agent) &&
          valid_utf8(r.user_agent));
    check(r.request_id.size() <= kMaxRequestId && !has_control(r.request_id) &&
          valid_utf8(r.request_id));

    const nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    check(!doc.is_discarded() && doc.is_object());
    check(doc.at("account").get<std::string>() == r.account);
    check(normalized(doc.at("client_ip").get<std::string>()) == r.client_ip);
    check(port_of(doc.at("client_port")) == r.client_port);
    if (doc.contains("server_port") && !doc["server_port"].is_null())
        check(port_of(doc["server_port"]) == r.server_port);
    else
        check(r.server_port == 0);
    const nlohmann::json& ts = doc.at("ts");
    if (ts.is_string()) {
        const auto t = parse_timestamp_text(ts.get<std::string>());
        check(t && *t == r.ts);
    } else {
        check(ts.is_number() && ts.get<double>() == r.ts);
    }
}

struct Null : AttributedSink {
    void on_attributed(const AttributedObservation& a) override {
        check(a.obs.src_port != 0 || a.account.empty());
    }
};

// Lines go to the parser and, when accepted, to a small joiner; every accepted record also
// brings a connection from its address and port now and then.
struct Pipeline : LineSink {
    Null null;
    Joiner joiner;
    AttributionFeed feed;
    AttributionRecord rec;
    fingerprint::Observation obs;
    int n = 0;
    Pipeline() : joiner(cfg(), null), feed(joiner, 4096) {}
    static JoinerConfig cfg() {
        JoinerConfig c;
        c.max_pending_records = 8;
        c.max_waiting = 4;
        c.max_connections = 8;
        return c;
    }
    void on_line(std::string_view line) override {
        feed.on_line(line);
        if (parse_record(line, rec, 4096) != ParseResult::Ok) return;
        if (++n % 3 == 0) {
            obs.src = rec.client_ip;
            obs.src_port = rec.client_port;
            obs.dst_port = rec.server_port;
            obs.ts_ns = rec.ts_ns() - (n % 5) * int64_t{1'000'000'000};
            joiner.on_observation(obs);
        }
        if (n % 7 == 0) joiner.tick(rec.ts_ns());
    }
    void on_line_too_long() override { feed.on_line_too_long(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    AttributionRecord r;
    if (parse_record(line, r) == ParseResult::Ok) verify(line, r);

    Pipeline p;
    LineSplitter lines(4096);
    lines.feed(line, p);
    lines.finish(p);
    p.joiner.flush();
    const JoinerStats& s = p.joiner.stats();
    check(s.records == s.matched + s.late + s.repeats + s.conflicts + s.stale_records +
                           s.expired_records + s.evicted_records + p.joiner.pending_records());
    check(s.observations == s.matched + s.unattributed);
    check(p.joiner.pending_records() <= 8 && p.joiner.connections() <= 8);
    return 0;
}
