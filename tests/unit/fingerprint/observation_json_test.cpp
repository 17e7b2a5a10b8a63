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

namespace sybilwatch::fingerprint {
namespace {

// clear() resets field by field (for speed): it must leave nothing of the previous connection.
TEST(ObservationJson, ObservationClearsEveryField) {
    Observation o;
    o.ts_ns = 5;
    o.transport = Transport::Quic;
    o.src = net::IpAddress::parse("10.0.0.1");
    o.dst = net::IpAddress::parse("10.0.0.2");
    o.src_port = o.dst_port = 7;
    for (auto* f : {&o.ja4, &o.ja4_o, &o.ja4s})
        f->assign("x");
    for (auto* f : {&o.ja4l_c, &o.ja4l_s})
        f->assign("x");
    o.sni.assign("x");
    o.alpn.assign("x");
    o.ja3.assign("x");
    o.ja4t.assign("x");
    o.ja4ts.assign("x");
    o.tcp_sig.assign("x");
    o.ja4_r = o.ja4_ro = o.ja3_full = o.ja4s_r = "x";
    o.tls_version = 1;
    o.syn_ns = o.synack_ns = o.ack_ns = 1;
    o.client_ttl = o.server_ttl = 1;
    o.rtt_us = 1;
    o.cadence.requests = 3;
    o.cadence.add_gap(10);
    o.end = EndReason::Rst;
    o.client_hello_seen = o.server_hello_seen = o.syn_seen = true;
    o.clear();
    std::string cleared, fresh;
    append_json(o, cleared);
    append_json(Observation{}, fresh);
    EXPECT_EQ(cleared, fresh);
    EXPECT_FALSE(o.client_hello_seen || o.server_hello_seen || o.syn_seen);
}

}  // namespace
}  // namespace sybilwatch::fingerprint
