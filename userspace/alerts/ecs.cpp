#include "alerts/ecs.hpp"

#include <set>
#include <string_view>

#include "alerts/json_fields.hpp"
#include "alerts/time_text.hpp"

namespace sybilwatch::alerts {
namespace {

// Elastic Security's risk scores for its four severities; Info has none of its own.
int risk_score(rules::Severity s) {
    switch (s) {
        case rules::Severity::Info:
            return 0;
        case rules::Severity::Low:
            return 21;
        case rules::Severity::Medium:
            return 47;
        case rules::Severity::High:
            return 73;
        case rules::Severity::Critical:
            return 99;
    }
    return 47;
}

// The value of a field among the finding's shared keys, then among the stacks seen.
std::string first_value(const rules::Finding& f, std::string_view field) {
    for (const auto& k : f.keys)
        if (k.field == field) return k.value;
    for (const auto& k : f.client_stacks)
        if (k.field == field) return k.value;
    return {};
}

// The value the finding is about: the shared key if it is one, else the first sample's.
std::string best(const rules::Finding& f, std::string_view field,
                 std::string rules::SampleConnection::*member) {
    if (auto v = first_value(f, field); !v.empty()) return v;
    for (const auto& s : f.samples)
        if (!(s.*member).empty()) return s.*member;
    return {};
}

}  // namespace

void render_ecs(const rules::Finding& f, std::string& out, const FormatOptions& o) {
    const int64_t raised_ns = f.emitted_ns ? f.emitted_ns : f.last_seen_ns;
    Json j = Json::object();
    j["@timestamp"] = rfc3339_ms(raised_ns);
    j["ecs"] = {{"version", kEcsVersion}};
    j["message"] = f.output.empty() ? f.title : f.output;

    Json event = Json::object();
    event["kind"] = "alert";
    // A farm is found from network connections; intrusion_detection is ECS's category for
    // detections, and "info" the type both categories allow for an alert.
    event["category"] = {"intrusion_detection", "network"};
    event["type"] = {"info"};
    event["action"] = std::string("finding-") + rules::to_string(f.activity);
    // Unique per revision (re-deliveries repeat it: use it as the document _id to de-dup).
    event["id"] = f.finding_id + ":" + std::to_string(f.revision);
    event["severity"] = static_cast<int>(f.severity) + 1;
    event["risk_score"] = risk_score(f.severity);
    event["start"] = rfc3339_ms(f.first_seen_ns);
    event["end"] = rfc3339_ms(f.last_seen_ns);
    event["duration"] = f.last_seen_ns - f.first_seen_ns;  // ECS: nanoseconds
    event["dataset"] = "sybilwatch.finding";
    event["module"] = "sybilwatch";
    if (!f.output.empty()) event["reason"] = f.output;
    j["event"] = std::move(event);

    Json rule = {
        {"id", f.rule}, {"name", f.rule}, {"description", f.title}, {"ruleset", "sybilwatch"}};
    if (!f.kind.empty()) rule["category"] = f.kind;
    j["rule"] = std::move(rule);

    // ECS describes one connection: the first sample stands for the finding; related.* lists
    // every value so a search for any account or address finds the alert.
    if (!f.samples.empty()) {
        const auto& s = f.samples.front();
        Json src = Json::object(), dst = Json::object();
        if (auto ip = ip_text(s.src); !ip.empty()) src["ip"] = ip;
        if (s.src_port) src["port"] = s.src_port;
        if (auto ip = ip_text(s.dst); !ip.empty()) dst["ip"] = ip;
        if (s.dst_port) dst["port"] = s.dst_port;
        if (!s.sni.empty()) dst["domain"] = s.sni;
        if (!src.empty()) j["source"] = std::move(src);
        if (!dst.empty()) j["destination"] = std::move(dst);
        if (!s.account.empty()) j["user"] = {{"id", s.account}, {"name", s.account}};
        if (!s.user_agent.empty()) j["user_agent"] = {{"original", s.user_agent}};
    }
    Json client = Json::object();
    if (auto sni = best(f, "sni", &rules::SampleConnection::sni); !sni.empty())
        client["server_name"] = sni;
    // The value a ja3-keyed finding is about, else the samples' most common.
    if (auto ja3 = best(f, "ja3", &rules::SampleConnection::ja3); !ja3.empty()) client["ja3"] = ja3;
    if (!client.empty()) j["tls"] = {{"client", std::move(client)}};

    std::set<std::string> ips, hosts, hashes;
    for (const auto& s : f.samples) {
        if (auto ip = ip_text(s.src); !ip.empty()) ips.insert(ip);
        if (auto ip = ip_text(s.dst); !ip.empty()) ips.insert(ip);
        if (!s.sni.empty()) hosts.insert(s.sni);
        if (!s.ja4.empty()) hashes.insert(s.ja4);
        if (!s.ja3.empty()) hashes.insert(s.ja3);
    }
    for (const auto* list : {&f.keys, &f.client_stacks})
        for (const auto& k : *list)
            if (k.field == "ja4" || k.field == "ja3") hashes.insert(k.value);
    Json related = {{"user", account_list(f, o)}};
    if (!ips.empty()) related["ip"] = ips;
    if (!hosts.empty()) related["hosts"] = hosts;
    if (!hashes.empty()) related["hash"] = hashes;
    j["related"] = std::move(related);

    Json observer = {{"vendor", "sybilwatch"},
                     {"product", "sybilwatchd"},
                     {"version", o.product_version},
                     {"type", "ids"}};
    if (!o.hostname.empty()) observer["hostname"] = o.hostname;
    j["observer"] = std::move(observer);
    if (!f.tags.empty()) j["tags"] = f.tags;

    Json sw = finding_object(f, o);
    if (auto v = best(f, "ja4", &rules::SampleConnection::ja4); !v.empty()) sw["ja4"] = v;
    if (auto v = best(f, "ja4t", &rules::SampleConnection::ja4t); !v.empty()) sw["ja4t"] = v;
    if (auto v = best(f, "tcp_sig", &rules::SampleConnection::tcp_sig); !v.empty())
        sw["tcp_sig"] = v;
    j["sybilwatch"] = std::move(sw);
    dump_line(j, out);
}

}  // namespace sybilwatch::alerts
