// IpAddress: parsing, canonical text (RFC 5952 section 4 rules and its examples), ordering,
// hashing.
#include "net/ip_address.hpp"

#include <gtest/gtest.h>

#include <array>
#include <unordered_set>

namespace sybilwatch::net {
namespace {

TEST(IpAddress, ParsesAndFormatsIpv4) {
    const IpAddress a = IpAddress::parse("192.0.2.33");
    ASSERT_EQ(a.family, 4);
    EXPECT_EQ(a.bytes[0], 192);
    EXPECT_EQ(a.bytes[3], 33);
    for (size_t i = 4; i < 16; ++i)
        EXPECT_EQ(a.bytes[i], 0) << i;
    EXPECT_EQ(a.to_string(), "192.0.2.33");
    const std::array<uint8_t, 4> raw = {192, 0, 2, 33};
    EXPECT_EQ(IpAddress::v4(raw), a);
}

// RFC 5952 section 4: leading zeros dropped, the longest run of zero fields (the first of
// equal runs) compressed, a single zero field not compressed, lower case.
TEST(IpAddress, FormatsIpv6Canonically) {
    const struct {
        const char* in;
        const char* out;
    } cases[] = {
        {"2001:0db8::0001", "2001:db8::1"},
        {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:DB8::AbCd", "2001:db8::abcd"},
        {"0:0:0:0:0:0:0:0", "::"},
        {"0:0:0:0:0:0:0:1", "::1"},
        {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},  // section 5: mapped IPv4 in dotted form
    };
    for (const auto& c : cases) {
        const IpAddress a = IpAddress::parse(c.in);
        EXPECT_EQ(a.family, 6) << c.in;
        EXPECT_EQ(a.to_string(), c.out) << c.in;
    }
}

TEST(IpAddress, RejectsInvalidText) {
    for (const char* bad :
         {"", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1::2::3", "2001:db8::g", "12345::", " 192.0.2.1",
          "192.0.2.1/24", "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc"}) {
        const IpAddress a = IpAddress::parse(bad);
        EXPECT_EQ(a.family, 0) << bad;
        EXPECT_EQ(a, IpAddress{}) << bad;  // nothing half-parsed left in the bytes
        EXPECT_EQ(a.to_string(), "") << bad;
    }
}

TEST(IpAddress, FormatUsesTheCallersBuffer) {
    std::array<char, IpAddress::kMaxText> buf{};
    const IpAddress a = IpAddress::parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
    ASSERT_EQ(a.family, 6);
    const std::string_view text = a.format(buf);
    EXPECT_EQ(text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    EXPECT_EQ(text.data(), buf.data());
}

TEST(IpAddress, OrdersAndHashesByValue) {
    const IpAddress v4 = IpAddress::parse("10.0.0.1");
    const IpAddress v4b = IpAddress::parse("10.0.0.2");
    const IpAddress v6 = IpAddress::parse("::a00:1");  // same low bytes, other family
    EXPECT_LT(v4, v4b);
    EXPECT_LT(v4, v6);  // family first
    EXPECT_NE(v4, v6);
    std::unordered_set<IpAddress> set = {v4, v4b, v6, IpAddress::parse("10.0.0.1")};
    EXPECT_EQ(set.size(), 3u);
    EXPECT_EQ(std::hash<IpAddress>{}(v4), std::hash<IpAddress>{}(IpAddress::parse("10.0.0.1")));
    EXPECT_NE(std::hash<IpAddress>{}(v4), std::hash<IpAddress>{}(v6));
}

}  // namespace
}  // namespace sybilwatch::net
