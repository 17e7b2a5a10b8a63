// OCSF 1.4.0 Detection Finding: every attribute the schema marks "required" for the class and
// for the objects the output uses, checked for presence, type and allowed value.
//
// Source: ocsf/ocsf-schema (https://schema.ocsf.io/1.4.0/classes/detection_finding):
//   events/base_event.json   activity_id, category_uid, class_uid, metadata, severity_id,
//                            time, type_uid  (type_uid = class_uid * 100 + activity_id)
//   events/findings/finding.json   finding_info; activity_id 1 Create, 2 Update, 3 Close
//   objects/finding_info.json      uid (title: required up to 1.3.0, recommended since)
//   objects/metadata.json          product, version
//   objects/product.json           vendor_name (name: required in 1.0, recommended since)
//   objects/analytic.json          type_id (0 Unknown, 1 Rule, 2 Behavioral, 3 Statistical,
//                                  4 Learning, 99 Other)
//   objects/ja4_fingerprint.json   type_id (1 JA4, 2 JA4Server, 3 JA4HTTP, 4 JA4Latency,
//                                  5 JA4X509, 6 JA4SSH, 7 JA4TCP, 8 JA4TCPServer,
//                                  9 JA4TCPScan), value
//   objects/evidences.json         constraint at_least_one of actor, api, connection_info,
//                                  data, database, databucket, device, dst_endpoint, email,
//                                  file, process, query, resources, src_endpoint, url, user,
//                                  job, script
//   objects/observable.json        name, type_id
//   objects/device.json            type_id
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alerts/ocsf.hpp"
#include "unit/alerts/finding_fixture.hpp"

namespace sybilwatch::alerts {
namespace {

using nlohmann::json;

json render_json(const rules::Finding& f, const FormatOptions& o = {}) {
    std::string out;
    render_ocsf_detection_finding(f, out, o);
    return json::parse(out);
}

void expect_int(const json& j, const char* k) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_TRUE(j[k].is_number_integer()) << k;
}
void expect_string(const json& j, const char* k) {
    ASSERT_TRUE(j.contains(k)) << k;
    ASSERT_TRUE(j[k].is_string()) << k;
    EXPECT_FALSE(j[k].get<std::string>().empty()) << k;
}

void check_required(const json& j) {
    // base_event
    for (const char* k :
         {"activity_id", "category_uid", "class_uid", "severity_id", "time", "type_uid"})
        expect_int(j, k);
    EXPECT_EQ(j["class_uid"], 2004);
    EXPECT_EQ(j["category_uid"], 2);
    EXPECT_EQ(j["type_uid"], 2004 * 100 + j["activity_id"].get<int>());
    const int activity = j["activity_id"];
    EXPECT_TRUE(activity >= 1 && activity <= 3);
    const int severity = j["severity_id"];
    EXPECT_TRUE(severity >= 1 && severity <= 5);
    // metadata
    ASSERT_TRUE(j.contains("metadata"));
    expect_string(j["metadata"], "version");
    EXPECT_EQ(j["metadata"]["version"], "1.4.0");
    ASSERT_TRUE(j["metadata"].contains("product"));
    expect_string(j["metadata"]["product"], "vendor_name");
    expect_string(j["metadata"]["product"], "name");
    // finding
    ASSERT_TRUE(j.contains("finding_info"));
    const json& fi = j["finding_info"];
    expect_string(fi, "uid");
    expect_string(fi, "title");
    if (fi.contains("analytic")) {
        expect_int(fi["analytic"], "type_id");
        EXPECT_EQ(fi["analytic"]["type_id"], 1);
    }
    // evidences, each with at least one of the constrained attributes
    static const char* kAtLeastOne[] = {
        "actor",      "api",    "connection_info", "data",         "database",
        "databucket", "device", "dst_endpoint",    "email",        "file",
        "process",    "query",  "resources",       "src_endpoint", "url",
        "user",       "job",    "script"};
    for (const json& e : j.value("evidences", json::array())) {
        bool any = false;
        for (const char* k : kAtLeastOne)
            any = any || e.contains(k);
        EXPECT_TRUE(any);
        for (const json& fp : e.value("ja4_fingerprint_list", json::array())) {
            expect_int(fp, "type_id");
            expect_string(fp, "value");
            const int t = fp["type_id"];
            EXPECT_TRUE((t >= 0 && t <= 9) || t == 99);
        }
    }
    for (const json& o : j.value("observables", json::array())) {
        expect_string(o, "name");
        expect_int(o, "type_id");
    }
    if (j.contains("device")) expect_int(j["device"], "type_id");
    // Time attributes are timestamp_t: integer epoch milliseconds.
    for (const char* k : {"start_time", "end_time"})
        if (j.contains(k)) expect_int(j, k);
}

TEST(Ocsf, RequiredAttributesForEveryActivityAndSeverity) {
    rules::Finding f = test::farm_finding();
    FormatOptions o;
    o.hostname = "edge-7";
    for (auto a : {rules::FindingActivity::Create, rules::FindingActivity::Update,
                   rules::FindingActivity::Close})
        for (auto s : {rules::Severity::Info, rules::Severity::Low, rules::Severity::Medium,
                       rules::Severity::High, rules::Severity::Critical}) {
            f.activity = a;
            f.severity = s;
            SCOPED_TRACE(std::string(rules::to_string(a)) + "/" + rules::to_string(s));
            check_required(render_json(f, o));
        }
    // And for a finding with nothing but an id: still a valid event.
    rules::Finding bare;
    bare.finding_id = "bare";
    bare.rule = "r";
    bare.title = "t";
    check_required(render_json(bare));
}

TEST(Ocsf, MapsTheFinding) {
    const rules::Finding f = test::farm_finding();
    const json j = render_json(f);
    EXPECT_EQ(j["activity_id"], 2);  // Update
    EXPECT_EQ(j["type_uid"], 200402);
    EXPECT_EQ(j["severity_id"], 4);  // High
    EXPECT_EQ(j["severity"], "High");
    EXPECT_EQ(j["time"], (test::kT0 + 2'500'000'000) / 1'000'000);
    EXPECT_EQ(j["start_time"], test::kT0 / 1'000'000);
    EXPECT_EQ(j["finding_info"]["uid"], f.finding_id);
    EXPECT_EQ(j["finding_info"]["first_seen_time"], test::kT0 / 1'000'000);
    EXPECT_EQ(j["finding_info"]["analytic"]["uid"], "link-shared-client-stack");
    EXPECT_EQ(j["metadata"]["uid"], f.finding_id + ":2");

    ASSERT_EQ(j["evidences"].size(), 3u);
    const json& e = j["evidences"][0];
    EXPECT_EQ(e["src_endpoint"]["ip"], "172.27.7.31");
    EXPECT_EQ(e["src_endpoint"]["port"], 54524);
    EXPECT_EQ(e["dst_endpoint"]["ip"], "13.107.21.239");
    EXPECT_EQ(e["dst_endpoint"]["hostname"], "edge.microsoft.com");
    EXPECT_EQ(e["user"]["name"], "acct-1001");
    const json& fps = e["ja4_fingerprint_list"];
    ASSERT_EQ(fps.size(), 2u);
    EXPECT_EQ(fps[0]["type_id"], 1);
    EXPECT_EQ(fps[0]["value"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(fps[0]["section_a"], "t13d1516h2");
    EXPECT_EQ(fps[0]["section_b"], "8daaf6152771");
    EXPECT_EQ(fps[0]["section_c"], "e5627efa2ab1");
    EXPECT_EQ(fps[1]["type_id"], 7);  // JA4T
    EXPECT_EQ(fps[1]["value"], "64240_2-1-3-1-1-4_1460_8");
    EXPECT_EQ(fps[1]["section_d"], "8");

    // The linked accounts, all of them, with everything else the native format has.
    const json& sw = j["unmapped"]["sybilwatch"];
    EXPECT_EQ(sw["accounts"], json({"acct-1001", "acct-1002", "acct-1003"}));
    EXPECT_EQ(sw["account_count"], 3);
    EXPECT_EQ(sw["keys"][0]["value"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    // One IP observable (all three samples share the client address), three accounts.
    int ips = 0, users = 0;
    for (const json& ob : j["observables"]) {
        ips += ob["type_id"] == 2;
        users += ob["type_id"] == 4;
    }
    EXPECT_EQ(ips, 1);
    EXPECT_EQ(users, 3);
}

TEST(Ocsf, ActivityLifecycle) {
    rules::Finding f = test::farm_finding();
    f.activity = rules::FindingActivity::Create;
    json j = render_json(f);
    EXPECT_EQ(j["activity_id"], 1);
    EXPECT_EQ(j["status_id"], 1);
    EXPECT_TRUE(j["finding_info"].contains("created_time"));
    f.activity = rules::FindingActivity::Close;
    j = render_json(f);
    EXPECT_EQ(j["activity_id"], 3);
    EXPECT_EQ(j["type_uid"], 200403);
    EXPECT_EQ(j["status_id"], 99);
    EXPECT_TRUE(j["finding_info"].contains("modified_time"));
}

}  // namespace
}  // namespace sybilwatch::alerts
