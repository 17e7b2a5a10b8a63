// The native finding JSON: every field of the design's finding contract, times as RFC 3339
// with milliseconds plus exact epoch nanoseconds, one line whatever the input bytes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "alerts/finding_json.hpp"
#include "alerts/format.hpp"
#include "alerts/time_text.hpp"
#include "unit/alerts/finding_fixture.hpp"

namespace sybilwatch::alerts {
namespace {

using nlohmann::json;

TEST(TimeText, Rfc3339MillisecondsUtc) {
    // Expected values from Python's datetime (UTC), including both int64 extremes.
    EXPECT_EQ(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(rfc3339_ms(951'782'400'000'000'000), "2000-02-29T00:00:00.000Z");
    EXPECT_EQ(rfc3339_ms(test::kT0), "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(rfc3339_ms(INT64_MAX), "2262-04-11T23:47:16.854Z");
    EXPECT_EQ(rfc3339_ms(INT64_MIN), "1677-09-21T00:12:43.145Z");
    EXPECT_EQ(epoch_ms(-1), -1);
    EXPECT_EQ(epoch_ms(1'999'999), 1);
}

TEST(FindingJson, CarriesTheWholeContract) {
    const rules::Finding f = test::farm_finding();
    std::string out;
    render(f, Format::Json, out);
    ASSERT_EQ(out.find('\n'), std::string::npos);
    const json j = json::parse(out);

    EXPECT_EQ(j["finding_id"], f.finding_id);
    EXPECT_EQ(j["revision"], 2);
    EXPECT_EQ(j["activity"], "update");
    EXPECT_EQ(j["rule"], "link-shared-client-stack");
    EXPECT_EQ(j["kind"], "link");
    EXPECT_EQ(j["severity"], "high");
    EXPECT_EQ(j["title"], f.title);
    EXPECT_EQ(j["output"], f.output);
    EXPECT_EQ(j["tags"], json({"account-farm", "ja4"}));
    EXPECT_EQ(j["group"][0]["field"], "ja4");
    EXPECT_EQ(j["group"][0]["value"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(j["measures"]["distinct(account)"], 3.0);
    EXPECT_EQ(j["account_count"], 3);
    EXPECT_EQ(j["accounts"], json({"acct-1001", "acct-1002", "acct-1003"}));
    EXPECT_EQ(j["accounts_truncated"], false);
    ASSERT_EQ(j["keys"].size(), 1u);
    EXPECT_EQ(j["keys"][0], json({{"field", "ja4"},
                                  {"value", "t13d1516h2_8daaf6152771_e5627efa2ab1"},
                                  {"accounts", 3}}));
    EXPECT_EQ(j["networks"][0]["value"], "172.27.7.0/24");
    EXPECT_EQ(j["client_stacks"][1]["field"], "ja3");
    EXPECT_EQ(j["client_stacks"][1]["value"], "1c258ebef8eee2dfa3df6d8d07285af9");
    EXPECT_EQ(j["observations"], 3);
    EXPECT_EQ(j["requests"], 12);
    EXPECT_EQ(j["client_bytes"], 4096);
    EXPECT_EQ(j["server_bytes"], 65536);
    EXPECT_EQ(j["first_seen"], "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(j["last_seen"], "2023-11-14T22:13:22.123Z");
    EXPECT_EQ(j["emitted"], "2023-11-14T22:13:22.623Z");
    EXPECT_EQ(j["first_seen_ns"], test::kT0);
    EXPECT_EQ(j["last_seen_ns"], test::kT0 + 2'000'000'000);
    EXPECT_EQ(j["emitted_ns"], test::kT0 + 2'500'000'000);

    ASSERT_EQ(j["samples"].size(), 3u);
    const json& s = j["samples"][0];
    // browsers-x509.pcapng stream 0, FoxIO reference values.
    EXPECT_EQ(s["src"], "172.27.7.31");
    EXPECT_EQ(s["src_port"], 54524);
    EXPECT_EQ(s["dst"], "13.107.21.239");
    EXPECT_EQ(s["dst_port"], 443);
    EXPECT_EQ(s["sni"], "edge.microsoft.com");
    EXPECT_EQ(s["ja4"], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    EXPECT_EQ(s["ja4t"], "64240_2-1-3-1-1-4_1460_8");
    EXPECT_EQ(s["account"], "acct-1001");
    EXPECT_EQ(s["ts"], "2023-11-14T22:13:20.123Z");
    EXPECT_EQ(s["ts_ns"], test::kT0);
    EXPECT_EQ(j["samples"][2]["dst"], "103.42.133.15");
}

TEST(FindingJson, AbsentValuesAreOmittedNotGuessed) {
    rules::Finding f;
    f.finding_id = "x";
    f.samples.emplace_back();  // no address, port or fingerprint known
    std::string out;
    render_finding_json(f, out);
    const json s = json::parse(out)["samples"][0];
    for (const char* k : {"src", "src_port", "dst", "dst_port", "sni", "ja4", "ja4t", "account"})
        EXPECT_FALSE(s.contains(k)) << k;
}

TEST(FindingJson, AccountCapMarksTheListTruncated) {
    rules::Finding f = test::farm_finding();
    std::string out;
    FormatOptions o;
    o.max_accounts = 2;
    render_finding_json(f, out, o);
    json j = json::parse(out);
    EXPECT_EQ(j["accounts"].size(), 2u);
    EXPECT_EQ(j["accounts_truncated"], true);
    EXPECT_EQ(j["account_count"], 3);  // the count stays exact

    f.accounts_truncated = true;  // the engine's own cap
    render_finding_json(f, out);
    EXPECT_EQ(json::parse(out)["accounts_truncated"], true);
}

TEST(FindingJson, InvalidUtf8AndControlCharactersStayOnOneLine) {
    rules::Finding f = test::farm_finding();
    f.accounts[0] = std::string("bad\xff\xfe", 5);
    f.title = "line one\nline two\t\"quoted\"";
    std::string out;
    for (Format fmt : {Format::Json, Format::Ocsf, Format::Ecs, Format::Cef}) {
        SCOPED_TRACE(to_string(fmt));
        ASSERT_NO_THROW(render(f, fmt, out));
        EXPECT_EQ(out.find('\n'), std::string::npos);
        EXPECT_EQ(out.find('\r'), std::string::npos);
        if (fmt != Format::Cef) {
            const json j = json::parse(out);  // valid JSON, U+FFFD for the bad bytes
            EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos);
        }
    }
    render(f, Format::Json, out);
    EXPECT_EQ(json::parse(out)["title"], f.title);
}

TEST(Format, NamesRoundTrip) {
    for (Format fmt : {Format::Json, Format::Ocsf, Format::Ecs, Format::Cef})
        EXPECT_EQ(parse_format(to_string(fmt)), fmt);
    EXPECT_FALSE(parse_format("leef").has_value());
}

}  // namespace
}  // namespace sybilwatch::alerts
