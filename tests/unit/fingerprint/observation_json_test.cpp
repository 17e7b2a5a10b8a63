#include "fingerprint/observation_json.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

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

// Timestamps: seconds and six digits of microseconds, exact; the seconds' text is reused
// between lines, so consecutive values in and across seconds must each come out right.
TEST(ObservationJson, TimestampsExactAcrossSeconds) {
    const std::pair<int64_t, std::string_view> cases[] = {
        {1700000000'012345678, "1700000000.012345"},
        {1700000000'999999999, "1700000000.999999"},
        {1700000001'000000000, "1700000001.000000"},
        {1700000001'000001000, "1700000001.000001"},
        {1700000000'500000000, "1700000000.500000"},
        {0, "0.000000"},
        {999, "0.000000"},
        {9'000'001'000, "9.000001"},
    };
    for (const auto& [ns, text] : cases) {
        Observation o;
        o.ts_ns = ns;
        std::string s;
        append_json(o, s);
        EXPECT_EQ(s.substr(0, 6 + text.size() + 1), "{\"ts\":" + std::string(text) + ",") << ns;
    }
}

// Addresses as inet_ntop writes them (RFC 5952 for IPv6, with glibc's embedded IPv4 forms).
TEST(ObservationJson, AddressesAsInetNtopWritesThem) {
    std::vector<std::array<uint8_t, 16>> v6 = {
        {},                                                      // ::
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},        // ::1
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4},  // ::ffff:1.2.3.4
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4},        // ::1.2.3.4
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0},
        {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1},  // two equal runs
        {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1},  // a single zero group
        {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff},
    };
    std::mt19937 rng(3);
    for (int i = 0; i < 2000; ++i) {
        std::array<uint8_t, 16> b{};
        for (auto& x : b)  // mostly zero groups, so every run length and position occurs
            x = rng() % 3 == 0 ? static_cast<uint8_t>(rng()) : 0;
        v6.push_back(b);
    }
    for (const auto& b : v6) {
        char want[INET6_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET6, b.data(), want, sizeof want), nullptr);
        const net::IpAddress a = net::IpAddress::v6(b);
        std::array<char, net::IpAddress::kMaxText> buf;
        EXPECT_EQ(a.format(buf), want);
    }
    for (int i = 0; i < 1000; ++i) {
        std::array<uint8_t, 4> b;
        for (auto& x : b)
            x = static_cast<uint8_t>(rng());
        char want[INET_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET, b.data(), want, sizeof want), nullptr);
        std::array<char, net::IpAddress::kMaxText> buf;
        EXPECT_EQ(net::IpAddress::v4(b).format(buf), want);
    }
}

// Plain runs are found eight bytes at a time: a byte that needs escaping is caught at every
// position of a word and of the tail, compared with escaping byte by byte.
TEST(ObservationJson, EscapingFindsEveryByteAtEveryPosition) {
    auto reference = [](std::string_view v) {
        std::string out = "\"";
        for (size_t i = 0; i < v.size(); ++i) {
            const auto c = static_cast<unsigned char>(v[i]);
            char buf[8];
            if (c == '"' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c >= 0x20 && c < 0x7f) {
                out += static_cast<char>(c);
            } else if (c == 0xc3 && i + 1 < v.size() &&
                       (static_cast<unsigned char>(v[i + 1]) & 0xc0) == 0x80) {
                out += v.substr(i, 2);
                ++i;
            } else {
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            }
        }
        return out + "\"";
    };
    const std::string specials[] = {
        "\"", "\\", "\x1f", "\x7f", "\xff", "\xc3\xa9", std::string(1, '\0')};
    for (const std::string& sp : specials) {
        for (size_t len : {7u, 8u, 9u, 16u, 23u, 41u}) {
            for (size_t at = 0; at < len; ++at) {
                std::string v(len, 'a');
                v.replace(at, 1, sp);
                std::string got;
                append_json_string(v, got);
                EXPECT_EQ(got, reference(v)) << len << " " << at;
            }
        }
    }
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
