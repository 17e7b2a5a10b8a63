#include "tls/ja4_fields.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tls/grease.hpp"

namespace sybilwatch::tls {
namespace {

std::string s2(std::array<char, 2> a) {
    return {a[0], a[1]};
}

std::string alpn(std::string_view v) {
    return s2(ja4_alpn_chars({reinterpret_cast<const uint8_t*>(v.data()), v.size()}));
}

TEST(Ja4Fields, VersionCodes) {
    // technical_details/JA4.md, "TLS and DTLS Version".
    EXPECT_EQ(s2(ja4_version_code(0x0304)), "13");
    EXPECT_EQ(s2(ja4_version_code(0x0303)), "12");
    EXPECT_EQ(s2(ja4_version_code(0x0302)), "11");
    EXPECT_EQ(s2(ja4_version_code(0x0301)), "10");
    EXPECT_EQ(s2(ja4_version_code(0x0300)), "s3");
    EXPECT_EQ(s2(ja4_version_code(0x0002)), "s2");
    EXPECT_EQ(s2(ja4_version_code(0xfeff)), "d1");
    EXPECT_EQ(s2(ja4_version_code(0xfefd)), "d2");
    EXPECT_EQ(s2(ja4_version_code(0xfefc)), "d3");
    EXPECT_EQ(s2(ja4_version_code(0x0305)), "00");
    EXPECT_EQ(s2(ja4_version_code(0x7f1c)), "00");  // TLS 1.3 draft
}

TEST(Ja4Fields, AlpnCharacters) {
    EXPECT_EQ(alpn("h2"), "h2");
    EXPECT_EQ(alpn("http/1.1"), "h1");
    EXPECT_EQ(alpn("h3"), "h3");
    EXPECT_EQ(alpn(""), "00");
    EXPECT_EQ(alpn("x"), "xx");         // one character: first and last are the same
    EXPECT_EQ(alpn("\xba\xad"), "bd");  // tls-non-ascii-alpn.pcapng, the spec's example
    EXPECT_EQ(alpn("\xab"), "ab");
    EXPECT_EQ(alpn("0\xab"), "3b");  // one end non-alphanumeric: both from the hex
    EXPECT_EQ(alpn("h2/"), "6f");    // '/' is not alphanumeric: hex "68322f"
    EXPECT_EQ(alpn("Z-9"), "Z9");    // only the ends matter
}

TEST(Ja4Fields, TwoDigitsCap) {
    EXPECT_EQ(s2(two_digits(0)), "00");
    EXPECT_EQ(s2(two_digits(7)), "07");
    EXPECT_EQ(s2(two_digits(99)), "99");
    EXPECT_EQ(s2(two_digits(1000)), "99");
}

TEST(Ja4Fields, Hex) {
    char buf[4];
    put_hex4(buf, 0xc02f);
    EXPECT_EQ(std::string(buf, 4), "c02f");
    put_hex4(buf, 0x0005);
    EXPECT_EQ(std::string(buf, 4), "0005");
}

TEST(Grease, AllSixteenAndNothingElse) {
    int n = 0;
    for (uint32_t v = 0; v <= 0xffff; ++v)
        n += is_grease(static_cast<uint16_t>(v)) ? 1 : 0;
    EXPECT_EQ(n, 16);
    for (uint16_t hi = 0; hi < 16; ++hi) {
        const uint16_t v = static_cast<uint16_t>((hi << 4 | 0xa) * 0x0101);
        EXPECT_TRUE(is_grease(v)) << std::hex << v;
    }
}

}  // namespace
}  // namespace sybilwatch::tls
