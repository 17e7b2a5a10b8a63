#include "fingerprint/observation_json.hpp"

#include <gtest/gtest.h>

namespace sybilwatch::fingerprint {
namespace {

TEST(ObservationJson, AbsentValuesAreLeftOut) {
    Observation o;
    o.ts_ns = 1700000000'012345678;
    o.src = net::IpAddress::parse("10.0.0.2");
    o.dst = net::IpAddress::parse("2001:db8::1");
    o.src_port = 51234;
    o.dst_port = 443;
    o.ja4.assign("t13d1516h2_8daaf6152771_e5627efa2ab1");
    std::string s;
    append_json(o, s);
    EXPECT_EQ(s.back(), '\n');
    EXPECT_NE(s.find("\"ts\":1700000000.012345,"), std::string::npos) << s;
    EXPECT_NE(s.find("\"src\":\"10.0.0.2\""), std::string::npos);
    EXPECT_NE(s.find("\"dst\":\"2001:db8::1\""), std::string::npos);
    EXPECT_NE(s.find("\"ja4\":\"t13d1516h2_8daaf6152771_e5627efa2ab1\""), std::string::npos);
    EXPECT_EQ(s.find("\"sni\""), std::string::npos);
    EXPECT_EQ(s.find("\"ja4s\""), std::string::npos);
    EXPECT_EQ(s.find("\"ja3\""), std::string::npos);
    EXPECT_EQ(s.find("\"rtt_us\""), std::string::npos);
}

TEST(ObservationJson, StringsAreEscapedToValidJson) {
    std::string s;
    append_json_string(std::string("a\"b\\c\n\x01\xff\xc3\xa9", 10), s);
    EXPECT_EQ(s, "\"a\\\"b\\\\c\\u000a\\u0001\\u00ff\xc3\xa9\"");
}

}  // namespace
}  // namespace sybilwatch::fingerprint
