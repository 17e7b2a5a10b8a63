#include "identity/record_parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

using namespace sybilwatch;
using namespace sybilwatch::identity;

namespace {

std::vector<std::string> read_lines(const std::string& name) {
    std::ifstream in(std::string(SW_SOURCE_DIR) + "/tests/unit/identity/testdata/" + name);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);)
        out.push_back(l);
    return out;
}

ParseResult parse(std::string_view line) {
    AttributionRecord r;
    return parse_record(line, r);
}

}  // namespace

TEST(RecordParser, RealNginxAccessLog) {
    const auto lines = read_lines("nginx-1.22.1-access.jsonl");
    ASSERT_EQ(lines.size(), 5u);
    RecordParser p;
    AttributionRecord r;

    ASSERT_EQ(p.parse(lines[0], r), ParseResult::Ok);
    EXPECT_DOUBLE_EQ(r.ts, 1795773579.284);
    EXPECT_EQ(r.client_ip, net::IpAddress::parse("127.0.0.1"));
    EXPECT_EQ(r.client_port, 55808);
    EXPECT_EQ(r.server_port, 18480);
    EXPECT_EQ(r.account, "alice");
    EXPECT_EQ(r.user_agent, "curl/7.88 \"quoted\" \\ back");  // JSON escapes undone
    EXPECT_EQ(r.request_id, "6700a7242471c01191ecbf14f1bf267b");

    ASSERT_EQ(p.parse(lines[1], r), ParseResult::Ok);
    EXPECT_EQ(r.client_ip, net::IpAddress::parse("::1"));
    EXPECT_EQ(r.client_ip.family, 6);
    EXPECT_EQ(r.account, "bob");
    EXPECT_EQ(r.user_agent, "bad?ctl");  // the client's \u0001 replaced

    // No credentials: nginx logs $remote_user as "".
    EXPECT_EQ(p.parse(lines[2], r), ParseResult::NoAccount);

    // Two requests on one keep-alive connection.
    ASSERT_EQ(p.parse(lines[3], r), ParseResult::Ok);
    const uint16_t port = r.client_port;
    ASSERT_EQ(p.parse(lines[4], r), ParseResult::Ok);
    EXPECT_EQ(r.client_port, port);

    EXPECT_EQ(p.stats().accepted, 4u);
    EXPECT_EQ(p.stats().count(ParseResult::NoAccount), 1u);
    EXPECT_EQ(p.stats().rejected_total(), 1u);
}

TEST(RecordParser, EnvoyStyleTypes) {
    // Envoy's json_format writes START_TIME and header values as strings, null when absent.
    AttributionRecord r;
    ASSERT_EQ(parse_record(R"({"ts":"2024-04-05T12:34:56.789Z","client_ip":"2001:db8::7",)"
                           R"("client_port":"50123","server_port":"443","account":"acct_42",)"
                           R"("user_agent":null,"request_id":null})",
                           r),
              ParseResult::Ok);
    EXPECT_NEAR(r.ts, 1712320496.789, 1e-6);
    EXPECT_EQ(r.client_ip, net::IpAddress::parse("2001:db8::7"));
    EXPECT_EQ(r.client_port, 50123);
    EXPECT_EQ(r.server_port, 443);
    EXPECT_EQ(r.account, "acct_42");
    EXPECT_TRUE(r.user_agent.empty());
    EXPECT_EQ(parse(R"({"ts":"1712345678.123","client_ip":"10.0.0.1","client_port":1,)"
                    R"("account":null})"),
              ParseResult::NoAccount);
}

TEST(RecordParser, MinimalAndOptionalFields) {
    AttributionRecord r;
    r.user_agent = "left over";
    r.server_port = 9;
    ASSERT_EQ(
        parse_record(R"({"ts":1,"client_ip":"1.2.3.4","client_port":65535,"account":"a"})", r),
        ParseResult::Ok);
    EXPECT_EQ(r.client_port, 65535);
    EXPECT_FALSE(r.has_server_port());  // cleared from the previous use
    EXPECT_TRUE(r.user_agent.empty());
    EXPECT_EQ(r.ts_ns(), 1'000'000'000);
}

TEST(RecordParser, MappedIpv4IsStoredAsIpv4) {
    AttributionRecord r;
    ASSERT_EQ(
        parse_record(R"({"ts":1,"client_ip":"::ffff:192.0.2.7","client_port":5,"account":"a"})", r),
        ParseResult::Ok);
    EXPECT_EQ(r.client_ip, net::IpAddress::parse("192.0.2.7"));
}

TEST(RecordParser, UnknownFieldsIgnoredEvenWhenNested) {
    AttributionRecord r;
    ASSERT_EQ(
        parse_record(R"({"path":"/v1","status":200,"x":{"account":"inner","ts":[1,{"a":null}]},)"
                     R"("ts":5,"client_ip":"1.2.3.4","client_port":7,"account":"outer","z":true})",
                     r),
        ParseResult::Ok);
    EXPECT_EQ(r.account, "outer");  // the nested "account" is another field's
    EXPECT_DOUBLE_EQ(r.ts, 5);
}

TEST(RecordParser, ClientControlledFieldsAreCutNotRejected) {
    // A client must not make its own record unacceptable with a long User-Agent.
    const std::string ua(300, 'u');
    const std::string rid(200, 'r');
    RecordParser p;
    AttributionRecord r;
    ASSERT_EQ(
        p.parse(R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a","user_agent":")" +
                    ua + R"(","request_id":")" + rid + R"("})",
                r),
        ParseResult::Ok);
    EXPECT_EQ(r.user_agent, std::string(kMaxUserAgent, 'u'));
    EXPECT_EQ(r.request_id, std::string(kMaxRequestId, 'r'));
    EXPECT_EQ(p.stats().user_agent_truncated, 1u);
    EXPECT_EQ(p.stats().request_id_truncated, 1u);

    // The cut does not split a UTF-8 sequence: 255 ASCII bytes then "é" (2 bytes) keeps 255.
    const std::string ua2 = std::string(255, 'a') + "\xC3\xA9" + "tail";
    ASSERT_EQ(
        p.parse(R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a","user_agent":")" +
                    ua2 + R"("})",
                r),
        ParseResult::Ok);
    EXPECT_EQ(r.user_agent, std::string(255, 'a'));
}

TEST(RecordParser, LengthCapIsExact) {
    const std::string base = R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a"})";
    AttributionRecord r;
    EXPECT_EQ(parse_record(base, r, base.size()), ParseResult::Ok);
    EXPECT_EQ(parse_record(base, r, base.size() - 1), ParseResult::TooLong);
    // Whitespace counts: over the cap is rejected without being parsed.
    EXPECT_EQ(parse_record(base + " ", r, base.size()), ParseResult::TooLong);
}

TEST(RecordParser, AccountBounds) {
    const std::string max(kMaxAccount, 'a');
    EXPECT_EQ(parse(R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":")" + max + "\"}"),
              ParseResult::Ok);
    EXPECT_EQ(parse(R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":")" + max + "a\"}"),
              ParseResult::FieldTooLong);
}

struct RejectCase {
    const char* line;
    ParseResult want;
};

TEST(RecordParser, RejectTable) {
    const RejectCase cases[] = {
        // Not JSON
        {"", ParseResult::NotJson},
        {"   ", ParseResult::NotJson},
        {"{", ParseResult::NotJson},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a"} trailing)",
         ParseResult::NotJson},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a"}{})", ParseResult::NotJson},
        {R"({'ts':1})", ParseResult::NotJson},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a",})", ParseResult::NotJson},
        {"{\"ts\":1,\"client_ip\":\"1.2.3.4\",\"client_port\":7,\"account\":\"a\xff\"}",
         ParseResult::NotJson},  // ill-formed UTF-8
        {"{\"ts\":1,\"client_ip\":\"1.2.3.4\",\"client_port\":7,\"account\":\"a\tb\"}",
         ParseResult::NotJson},  // raw control character in a string
        {R"(<190>Nov 27 09:59:47 nginx: {"ts":1})", ParseResult::NotJson},
        {R"({"ts":1e999,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::NotJson},
        // Not an object
        {"[]", ParseResult::NotObject},
        {R"([{"ts":1}])", ParseResult::NotObject},
        {"42", ParseResult::NotObject},
        {R"("text")", ParseResult::NotObject},
        {"null", ParseResult::NotObject},
        // Missing fields (null is missing)
        {R"({})", ParseResult::MissingField},
        {R"({"client_ip":"1.2.3.4","client_port":7,"account":"a"})", ParseResult::MissingField},
        {R"({"ts":1,"client_port":7,"account":"a"})", ParseResult::MissingField},
        {R"({"ts":1,"client_ip":"1.2.3.4","account":"a"})", ParseResult::MissingField},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7})", ParseResult::MissingField},
        {R"({"ts":null,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::MissingField},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":null,"account":"a"})",
         ParseResult::MissingField},
        // Duplicates
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a","account":"b"})",
         ParseResult::DuplicateField},
        {R"({"ts":1,"ts":null,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::DuplicateField},
        // Wrong types
        {R"({"ts":true,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::WrongType},
        {R"({"ts":1,"client_ip":16909060,"client_port":7,"account":"a"})", ParseResult::WrongType},
        {R"({"ts":1,"client_ip":["1.2.3.4"],"client_port":7,"account":"a"})",
         ParseResult::WrongType},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":{},"account":"a"})",
         ParseResult::WrongType},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":42})", ParseResult::WrongType},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a","user_agent":5})",
         ParseResult::WrongType},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a","request_id":false})",
         ParseResult::WrongType},
        // Timestamps
        {R"({"ts":-1,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::BadTimestamp},
        {R"({"ts":-0.5,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::BadTimestamp},
        {R"({"ts":1712345678123,"client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::BadTimestamp},  // milliseconds are not seconds
        {R"({"ts":"yesterday","client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::BadTimestamp},
        {R"({"ts":"","client_ip":"1.2.3.4","client_port":7,"account":"a"})",
         ParseResult::BadTimestamp},
        // Addresses
        {R"({"ts":1,"client_ip":"1.2.3","client_port":7,"account":"a"})", ParseResult::BadIp},
        {R"({"ts":1,"client_ip":"1.2.3.4:5","client_port":7,"account":"a"})", ParseResult::BadIp},
        {R"({"ts":1,"client_ip":"fe80::1%eth0","client_port":7,"account":"a"})",
         ParseResult::BadIp},
        {R"({"ts":1,"client_ip":"[::1]","client_port":7,"account":"a"})", ParseResult::BadIp},
        {R"({"ts":1,"client_ip":"","client_port":7,"account":"a"})", ParseResult::BadIp},
        // Ports
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":0,"account":"a"})", ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":65536,"account":"a"})",
         ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":-7,"account":"a"})", ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7.5,"account":"a"})", ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":"7a","account":"a"})",
         ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":"","account":"a"})", ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":"070000","account":"a"})",
         ParseResult::BadPort},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"server_port":0,"account":"a"})",
         ParseResult::BadPort},
        // No account
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":""})", ParseResult::NoAccount},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"-"})", ParseResult::NoAccount},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":null})",
         ParseResult::NoAccount},
        // Control characters in the account (escaped in JSON, so well-formed)
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a\u0000b"})",
         ParseResult::BadCharacters},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"a\nb"})",
         ParseResult::BadCharacters},
        {R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":"\u007f"})",
         ParseResult::BadCharacters},
    };
    RecordParser p;
    AttributionRecord r;
    std::array<uint64_t, kParseResults> want{};
    for (const RejectCase& c : cases) {
        EXPECT_EQ(p.parse(c.line, r), c.want) << c.line;
        ++want[static_cast<size_t>(c.want)];
    }
    EXPECT_EQ(p.parse(R"({"ts":1,"client_ip":"1.2.3.4","client_port":7,"account":")" +
                          std::string(kMaxAccount + 1, 'a') + "\"}",
                      r),
              ParseResult::FieldTooLong);
    ++want[static_cast<size_t>(ParseResult::FieldTooLong)];
    EXPECT_EQ(p.parse(std::string(RecordParser::kDefaultMaxLine + 1, ' '), r),
              ParseResult::TooLong);
    ++want[static_cast<size_t>(ParseResult::TooLong)];
    p.count_too_long();
    ++want[static_cast<size_t>(ParseResult::TooLong)];
    // Every reason is exercised, and counted exactly.
    for (size_t i = 1; i < kParseResults; ++i) {
        EXPECT_GT(want[i], 0u) << to_string(static_cast<ParseResult>(i));
        EXPECT_EQ(p.stats().rejected[i], want[i]) << to_string(static_cast<ParseResult>(i));
    }
    EXPECT_EQ(p.stats().accepted, 0u);
}

TEST(RecordParser, ReasonNames) {
    EXPECT_STREQ(to_string(ParseResult::TooLong), "too_long");
    EXPECT_STREQ(to_string(ParseResult::BadCharacters), "bad_characters");
    for (size_t i = 0; i < kParseResults; ++i)
        EXPECT_STRNE(to_string(static_cast<ParseResult>(i)), "unknown");
}
