#include "alerts/ocsf.hpp"

#include <set>
#include <string_view>

#include "alerts/json_fields.hpp"
#include "alerts/time_text.hpp"

namespace sybilwatch::alerts {
namespace {

const char* severity_caption(int id) {
    switch (id) {
        case 1:
            return "Informational";
        case 2:
            return "Low";
        case 3:
            return "Medium";
        case 4:
            return "High";
        case 5:
            return "Critical";
    }
    return "Unknown";
}

const char* activity_caption(int id) {
    switch (id) {
        case 1:
            return "Create";
        case 2:
            return "Update";
        case 3:
            return "Close";
    }
    return "Unknown";
}

// JA4+ values are '_'-separated sections (a_b_c for JA4, a_b_c_d for JA4T); OCSF has a field
// for each. Anything else is passed as the value alone.
Json ja4_fingerprint(int type_id, const char* type, std::string_view value) {
    Json j = {{"type_id", type_id}, {"type", type}, {"value", value}};
    static constexpr const char* kSection[] = {"section_a", "section_b", "section_c", "section_d"};
    std::string_view parts[4];
    size_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= value.size(); ++i) {
        if (i == value.size() || value[i] == '_') {
            if (n == 4) return j;  // too many sections: not a shape OCSF describes
            parts[n++] = value.substr(start, i - start);
            start = i + 1;
        }
    }
    if (n < 3) return j;
    for (size_t i = 0; i < n; ++i)
        j[kSection[i]] = parts[i];
    return j;
}

Json endpoint(const net::IpAddress& ip, uint16_t port, const std::string& hostname) {
    Json j = Json::object();
    if (auto t = ip_text(ip); !t.empty()) j["ip"] = t;
    if (port) j["port"] = port;
    if (!hostname.empty()) j["hostname"] = hostname;
    return j;
}

Json evidence(const rules::SampleConnection& s) {
    Json e = Json::object();
    // ECS-like endpoint roles: the client that opened the connection is the source.
    e["src_endpoint"] = endpoint(s.src, s.src_port, {});
    // The SNI is the server name the client asked for.
    e["dst_endpoint"] = endpoint(s.dst, s.dst_port, s.sni);
    Json fps = Json::array();
    if (!s.ja4.empty()) fps.push_back(ja4_fingerprint(1, "JA4", s.ja4));
    if (!s.ja4t.empty()) fps.push_back(ja4_fingerprint(7, "JA4TCP", s.ja4t));
    if (!fps.empty()) e["ja4_fingerprint_list"] = std::move(fps);
    if (!s.account.empty()) e["user"] = {{"name", s.account}, {"uid", s.account}};
    // What OCSF has no evidence attribute for: the connection's time, p0f-style signature and
    // the user agent the gateway reported.
    Json data = {{"time", epoch_ms(s.ts_ns)}};
    if (!s.tcp_sig.empty()) data["tcp_sig"] = s.tcp_sig;
    if (!s.user_agent.empty()) data["user_agent"] = s.user_agent;
    e["data"] = std::move(data);
    return e;
}

}  // namespace

int ocsf_severity_id(rules::Severity s) {
    switch (s) {
        case rules::Severity::Info:
            return 1;
        case rules::Severity::Low:
            return 2;
        case rules::Severity::Medium:
            return 3;
        case rules::Severity::High:
            return 4;
        case rules::Severity::Critical:
            return 5;
    }
    return 0;
}

int ocsf_activity_id(rules::FindingActivity a) {
    switch (a) {
        case rules::FindingActivity::Create:
            return 1;
        case rules::FindingActivity::Update:
            return 2;
        case rules::FindingActivity::Close:
            return 3;
    }
    return 0;
}

void render_ocsf_detection_finding(const rules::Finding& f, std::string& out,
                                   const FormatOptions& o) {
    const int activity = ocsf_activity_id(f.activity);
    const int severity = ocsf_severity_id(f.severity);
    const int64_t raised_ns = f.emitted_ns ? f.emitted_ns : f.last_seen_ns;

    Json j = Json::object();
    j["activity_id"] = activity;
    j["activity_name"] = activity_caption(activity);
    j["category_uid"] = kOcsfFindingsCategory;
    j["category_name"] = "Findings";
    j["class_uid"] = kOcsfDetectionFindingClass;
    j["class_name"] = "Detection Finding";
    j["type_uid"] = kOcsfDetectionFindingClass * 100 + activity;
    j["type_name"] = std::string("Detection Finding: ") + activity_caption(activity);
    j["severity_id"] = severity;
    j["severity"] = severity_caption(severity);
    j["time"] = epoch_ms(raised_ns);
    j["start_time"] = epoch_ms(f.first_seen_ns);
    j["end_time"] = epoch_ms(f.last_seen_ns);
    j["count"] = f.observations;
    j["message"] = f.output.empty() ? f.title : f.output;
    // Finding lifecycle: a Close here means the finding's window expired, which is neither
    // "Resolved" (reviewed and remediated) nor "Suppressed"; OCSF's Other carries the label.
    if (f.activity == rules::FindingActivity::Close) {
        j["status_id"] = 99;
        j["status"] = "Expired";
    } else {
        j["status_id"] = 1;
        j["status"] = "New";
    }

    Json product = {
        {"name", "sybilwatch"}, {"vendor_name", "sybilwatch"}, {"version", o.product_version}};
    j["metadata"] = {{"version", kOcsfVersion},
                     {"product", std::move(product)},
                     // One event per revision: finding_id plus revision identifies it, so a
                     // re-delivered copy (at-least-once) carries the same uid.
                     {"uid", f.finding_id + ":" + std::to_string(f.revision)},
                     {"labels", f.tags}};

    Json info = Json::object();
    info["uid"] = f.finding_id;
    info["title"] = f.title;
    if (!f.output.empty()) info["desc"] = f.output;
    Json types = Json::array();
    if (!f.kind.empty()) types.push_back(f.kind);
    for (const auto& t : f.tags)
        types.push_back(t);
    info["types"] = std::move(types);
    info["first_seen_time"] = epoch_ms(f.first_seen_ns);
    info["last_seen_time"] = epoch_ms(f.last_seen_ns);
    if (f.activity == rules::FindingActivity::Create)
        info["created_time"] = epoch_ms(raised_ns);
    else
        info["modified_time"] = epoch_ms(raised_ns);
    info["analytic"] = {{"uid", f.rule}, {"name", f.rule}, {"type_id", 1}, {"type", "Rule"}};
    if (!f.kind.empty()) info["analytic"]["category"] = f.kind;
    j["finding_info"] = std::move(info);

    Json evidences = Json::array();
    for (const auto& s : f.samples)
        evidences.push_back(evidence(s));
    if (!evidences.empty()) j["evidences"] = std::move(evidences);

    // Observables name where in the event a value sits, so a SIEM can pivot on it.
    Json observables = Json::array();
    std::set<std::string> seen_ip, seen_user;
    for (size_t i = 0; i < f.samples.size(); ++i) {
        const auto& s = f.samples[i];
        const std::string at = "evidences[" + std::to_string(i) + "]";
        if (auto ip = ip_text(s.src); !ip.empty() && seen_ip.insert(ip).second)
            observables.push_back({{"name", at + ".src_endpoint.ip"},
                                   {"type_id", 2},
                                   {"type", "IP Address"},
                                   {"value", ip}});
        if (!s.account.empty() && seen_user.insert(s.account).second)
            observables.push_back({{"name", at + ".user.name"},
                                   {"type_id", 4},
                                   {"type", "User Name"},
                                   {"value", s.account}});
    }
    if (!observables.empty()) j["observables"] = std::move(observables);

    if (!o.hostname.empty()) j["device"] = {{"hostname", o.hostname}, {"type_id", 1}};

    j["unmapped"] = {{"sybilwatch", finding_object(f, o)}};
    dump_line(j, out);
}

}  // namespace sybilwatch::alerts
