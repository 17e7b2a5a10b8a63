#include <gtest/gtest.h>

#include <vector>

#include "foxio/ja4l.hpp"
#include "foxio/ja4t.hpp"

namespace sybilwatch::foxio {
namespace {

TEST(Ja4t, WindowOptionsMssScale) {
    net::Packet p;
    p.window = 64240;
    const std::vector<uint8_t> b = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
    fingerprint::FixedString<200> out;
    ja4t(p, net::parse_tcp_options(b), out);
    EXPECT_EQ(out.view(), "64240_2-1-3-1-1-4_1460_8");
}

TEST(Ja4t, MissingPartsPrintTwoZeros) {
    net::Packet p;
    p.window = 8192;
    fingerprint::FixedString<200> out;
    ja4t(p, net::parse_tcp_options({}), out);
    EXPECT_EQ(out.view(), "8192_00_00_00");
    const std::vector<uint8_t> zero_scale = {2, 4, 0x05, 0x9c, 3, 3, 0};
    p.window = 5744;
    ja4t(p, net::parse_tcp_options(zero_scale), out);
    EXPECT_EQ(out.view(), "5744_2-3_1436_0");  // present but zero: not missing
}

TEST(Ja4t, PaddingAfterEolCountsAsKindZero) {
    net::Packet p;
    p.window = 65535;
    // macOS: mss, nop, ws 6, nop, nop, ts, sackOK, eol, eol(padding)
    const std::vector<uint8_t> b = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10,
                                    0, 0, 0,    1,    0, 0, 0, 0, 4, 2, 0, 0};
    fingerprint::FixedString<200> out;
    ja4t(p, net::parse_tcp_options(b), out);
    EXPECT_EQ(out.view(), "65535_2-1-3-1-1-8-4-0-0_1460_6");
}

TEST(Ja4l, HalfTheIntervalInMicroseconds) {
    fingerprint::FixedString<24> out;
    ja4l(1'000'000'000, 1'000'124'000, 64, out);  // 124 µs apart
    EXPECT_EQ(out.view(), "62_64");
    ja4l(1'000'000'000, 1'000'000'999, 128, out);  // 0.4995 µs rounds to 0
    EXPECT_EQ(out.view(), "0_128");
}

TEST(Ja4l, AbsentWhenTimesAreMissingOrReversed) {
    fingerprint::FixedString<24> out;
    ja4l(0, 5, 64, out);
    EXPECT_TRUE(out.empty());
    ja4l(10, 5, 64, out);
    EXPECT_TRUE(out.empty());
    ja4l(5, 10, 0, out);
    EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace sybilwatch::foxio
