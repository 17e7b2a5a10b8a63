#include "net/tcp_options.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sybilwatch::net {
namespace {

TEST(TcpOptions, LinuxSyn) {
    // mss 1460, sackOK, TS 1/0, nop, wscale 7
    const std::vector<uint8_t> b = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                    0, 1, 0,    0,    0, 0, 1, 3,  3, 7};
    const TcpOptions o = parse_tcp_options(b);
    EXPECT_EQ(o.count, 5);
    EXPECT_EQ(std::vector<uint8_t>(o.kind_list().begin(), o.kind_list().end()),
              (std::vector<uint8_t>{2, 4, 8, 1, 3}));
    EXPECT_EQ(o.mss, 1460);
    EXPECT_EQ(o.wscale, 7);
    EXPECT_TRUE(o.sack_ok);
    EXPECT_TRUE(o.has_ts);
    EXPECT_EQ(o.ts_val, 1u);
    EXPECT_EQ(o.ts_ecr, 0u);
    EXPECT_FALSE(o.malformed);
}

TEST(TcpOptions, EolPaddingAndTrailingData) {
    const std::vector<uint8_t> pad = {2, 4, 5, 0xb4, 0, 0, 0, 0};
    TcpOptions o = parse_tcp_options(pad);
    EXPECT_EQ(o.count, 5);  // mss, EOL, and three padding zeros
    EXPECT_EQ(o.kinds[1], 0);
    EXPECT_EQ(o.kinds[4], 0);
    EXPECT_EQ(o.eol_padding, 3);
    EXPECT_FALSE(o.data_after_eol);
    const std::vector<uint8_t> junk = {0, 0, 9, 0};
    o = parse_tcp_options(junk);
    EXPECT_TRUE(o.data_after_eol);
    EXPECT_EQ(o.count, 2);  // EOL, one zero; the 9 is not an option
}

TEST(TcpOptions, MalformedLengthsNeverReadPastTheEnd) {
    for (const auto& b : std::vector<std::vector<uint8_t>>{
             {2}, {2, 4, 5}, {3, 1}, {8, 10, 0, 0}, {2, 0}, {4, 3, 0}, {254, 40}}) {
        const TcpOptions o = parse_tcp_options(b);
        EXPECT_TRUE(o.malformed) << int(b[0]);
    }
}

TEST(TcpOptions, ManyNopsAreBounded) {
    const std::vector<uint8_t> b(60, 1);  // longer than any real header
    const TcpOptions o = parse_tcp_options(b);
    EXPECT_EQ(o.count, TcpOptions::kMax);
}

}  // namespace
}  // namespace sybilwatch::net
