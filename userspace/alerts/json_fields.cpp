#include "alerts/json_fields.hpp"

#include "alerts/time_text.hpp"

namespace sybilwatch::alerts {

std::string ip_text(const net::IpAddress& a) {
    if (a.family != 4 && a.family != 6) return {};
    std::array<char, net::IpAddress::kMaxText> buf;
    return std::string(a.format(buf));
}

Json key_counts(const std::vector<rules::KeyCount>& v) {
    Json arr = Json::array();
    for (const auto& k : v)
        arr.push_back({{"field", k.field}, {"value", k.value}, {"accounts", k.accounts}});
    return arr;
}

Json sample_object(const rules::SampleConnection& s) {
    Json j = Json::object();
    j["ts"] = rfc3339_ms(s.ts_ns);
    j["ts_ns"] = s.ts_ns;
    // Absent rather than empty or zero: the design's rule for values that were not seen.
    if (auto t = ip_text(s.src); !t.empty()) j["src"] = t;
    if (s.src_port) j["src_port"] = s.src_port;
    if (auto t = ip_text(s.dst); !t.empty()) j["dst"] = t;
    if (s.dst_port) j["dst_port"] = s.dst_port;
    auto str = [&](const char* k, const std::string& v) {
        if (!v.empty()) j[k] = v;
    };
    str("account", s.account);
    str("sni", s.sni);
    str("ja4", s.ja4);
    str("ja3", s.ja3);
    str("ja4t", s.ja4t);
    str("tcp_sig", s.tcp_sig);
    str("user_agent", s.user_agent);
    return j;
}

bool accounts_incomplete(const rules::Finding& f, const FormatOptions& o) {
    return f.accounts_truncated || (o.max_accounts && f.accounts.size() > o.max_accounts);
}

Json account_list(const rules::Finding& f, const FormatOptions& o) {
    const size_t n =
        o.max_accounts ? std::min(o.max_accounts, f.accounts.size()) : f.accounts.size();
    Json arr = Json::array();
    for (size_t i = 0; i < n; ++i)
        arr.push_back(f.accounts[i]);
    return arr;
}

Json finding_object(const rules::Finding& f, const FormatOptions& o) {
    Json j = Json::object();
    j["finding_id"] = f.finding_id;
    j["revision"] = f.revision;
    j["activity"] = rules::to_string(f.activity);
    j["rule"] = f.rule;
    if (!f.kind.empty()) j["kind"] = f.kind;
    j["severity"] = rules::to_string(f.severity);
    j["title"] = f.title;
    if (!f.output.empty()) j["output"] = f.output;
    j["tags"] = f.tags;
    // Pairs, not an object: group-by values keep the rule's order.
    Json group = Json::array();
    for (const auto& [k, v] : f.group)
        group.push_back({{"field", k}, {"value", v}});
    j["group"] = std::move(group);
    Json measures = Json::object();
    for (const auto& [k, v] : f.measures)
        measures[k] = v;
    j["measures"] = std::move(measures);
    j["account_count"] = f.account_count;
    j["accounts"] = account_list(f, o);
    j["accounts_truncated"] = accounts_incomplete(f, o);
    j["keys"] = key_counts(f.keys);
    j["networks"] = key_counts(f.networks);
    j["client_stacks"] = key_counts(f.client_stacks);
    j["observations"] = f.observations;
    j["requests"] = f.requests;
    j["client_bytes"] = f.client_bytes;
    j["server_bytes"] = f.server_bytes;
    j["first_seen"] = rfc3339_ms(f.first_seen_ns);
    j["last_seen"] = rfc3339_ms(f.last_seen_ns);
    j["emitted"] = rfc3339_ms(f.emitted_ns);
    // Exact event times too: the text is cut to milliseconds, these are not.
    j["first_seen_ns"] = f.first_seen_ns;
    j["last_seen_ns"] = f.last_seen_ns;
    j["emitted_ns"] = f.emitted_ns;
    Json samples = Json::array();
    for (const auto& s : f.samples)
        samples.push_back(sample_object(s));
    j["samples"] = std::move(samples);
    if (!o.hostname.empty()) j["host"] = o.hostname;
    return j;
}

void dump_line(const Json& j, std::string& out) {
    out = j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace sybilwatch::alerts
