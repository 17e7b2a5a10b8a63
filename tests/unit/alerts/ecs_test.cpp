// ECS output: the documented field mapping (docs/alerts.md, "ECS").
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "alerts/ecs.hpp"
#include "unit/alerts/finding_fixture.hpp"

namespace sybilwatch::alerts {
namespace {

using nlohmann::json;

json render_json(const rules::Finding& f, const FormatOptions& o = {}) {
    std::string out;
    render_ecs(f, out, o);
    return json::parse(out);
}

TEST(Ecs, MapsTheDocumentedFields) {
    const rules::Finding f = test::farm_finding();
    FormatOptions o;
    o.hostname = "edge-7";
    o.product_version = "9.9.9";
    const json j = render_json(f, o);

    EXPECT_EQ(j["@timestamp"], "2023-11-14T22:13:22.623Z");
    EXPECT_EQ(j["ecs"]["version"], "8.11.0");
    EXPECT_EQ(j["message"], f.output);
    EXPECT_EQ(j["event"]["kind"], "alert");
    EXPECT_EQ(j["event"]["category"], json({"intrusion_detection", "network"}));
    EXPECT_EQ(j["event"]["type"], json({"info"}));
    EXPECT_EQ(j["event"]["action"], "finding-update");
    EXPECT_EQ(j["event"]["id"], f.finding_id + ":2");
    EXPECT_EQ(j["event"]["severity"], 4);
    EXPECT_EQ(j["event"]["risk_score"], 73);
    EXPECT_EQ(j["event"]["start"], "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(j["event"]["end"], "2023-11-14T22:13:22.123Z");
    EXPECT_EQ(j["event"]["duration"], 2'000'000'000);
    EXPECT_EQ(j["rule"]["id"], "link-shared-client-stack");
    EXPECT_EQ(j["rule"]["name"], "link-shared-client-stack");
    EXPECT_EQ(j["rule"]["description"], f.title);
    EXPECT_EQ(j["rule"]["category"], "link");

    // The first sample connection (browsers-x509.pcapng stream 0).
    EXPECT_EQ(j["source"]["ip"], "172.27.7.31");
    EXPECT_EQ(j["source"]["port"], 54524);
    EXPECT_EQ(j["destination"]["ip"], "13.107.21.239");
    EXPECT_EQ(j["destination"]["port"], 443);
    EXPECT_EQ(j["destination"]["domain"], "edge.microsoft.com");
    EXPECT_EQ(j["tls"]["client"]["server_name"], "edge.microsoft.com");
    EXPECT_EQ(j["tls"]["client"]["ja3"], "1c258ebef8eee2dfa3df6d8d07285af9");
    EXPECT_EQ(j["user"]["id"], "acct-1001");
    EXPECT_EQ(j["user"]["name"], "acct-1001");
    EXPECT_EQ(j["user_agent"]["original"], f.samples[0].user_agent);

    EXPECT_EQ(j["related"]["user"], json({"acct-1001", "acct-1002", "acct-1003"}));
    EXPECT_EQ(j["related"]["hosts"],
              json({"edge.microsoft.com", "lptag.liveperson.net", "nym1-ib.adnxs.com"}));
    EXPECT_EQ(j["related"]["ip"].size(), 4u);  // one client, three servers
    EXPECT_EQ(j["related"]["hash"],
              json({"1c258ebef8eee2dfa3df6d8d07285af9", "t13d1516h2_8daaf6152771_e5627efa2ab1"}));
    EXPECT_EQ(j["observer"]["hostname"], "edge-7");
    EXPECT_EQ(j["observer"]["version"], "9.9.9");
    EXPECT_EQ(j["tags"], json({"account-farm", "ja4"}));

    // sybilwatch.* custom fields: JA4 is not in ECS.
    const json& sw = j["sybilwatch"];
    EXPECT_EQ(sw["ja4"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(sw["ja4t"], "64240_2-1-3-1-1-4_1460_8");
    EXPECT_EQ(sw["tcp_sig"], "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0");
    EXPECT_EQ(sw["finding_id"], f.finding_id);
    EXPECT_EQ(sw["account_count"], 3);
    EXPECT_EQ(sw["accounts"].size(), 3u);
    EXPECT_EQ(sw["samples"].size(), 3u);
}

TEST(Ecs, Ja3ComesFromTheSampleConnectionsWhenNoKeyHasIt) {
    rules::Finding f = test::farm_finding();
    f.client_stacks.resize(1);  // the ja4 only
    for (auto& s : f.samples)
        s.ja3 = test::chrome_ja3();
    const json j = render_json(f);
    EXPECT_EQ(j["tls"]["client"]["ja3"], test::chrome_ja3());
    EXPECT_NE(std::find(j["related"]["hash"].begin(), j["related"]["hash"].end(),
                        json(test::chrome_ja3())),
              j["related"]["hash"].end());
    for (auto& s : f.samples)
        s.ja3.clear();
    EXPECT_FALSE(render_json(f)["tls"]["client"].contains("ja3"));
}

TEST(Ecs, NoSamplesNoGuessing) {
    rules::Finding f;
    f.finding_id = "id";
    f.rule = "r";
    const json j = render_json(f);
    EXPECT_FALSE(j.contains("source"));
    EXPECT_FALSE(j.contains("user"));
    EXPECT_FALSE(j.contains("tls"));
    EXPECT_FALSE(j["sybilwatch"].contains("ja4"));
    EXPECT_EQ(j["event"]["kind"], "alert");
}

}  // namespace
}  // namespace sybilwatch::alerts
