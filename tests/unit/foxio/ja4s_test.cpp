#include "foxio/ja4s.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "tls/record.hpp"
#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::foxio {
namespace {

using testdata::Bytes;

// The ServerHello of a test connection, with the bytes it views.
struct Server {
    Bytes msg;
    tls::ServerHello sh;
    explicit Server(const std::string& name) {
        const Bytes stream = testdata::read_hex(name + ".server.hex");
        std::array<uint8_t, 4096> scratch{};
        std::span<const uint8_t> view;
        EXPECT_EQ(tls::extract_handshake(stream, tls::handshake_type::ServerHello, scratch, view),
                  tls::Extract::Complete);
        msg.assign(view.begin(), view.end());
        EXPECT_TRUE(tls::parse_server_hello(msg, sh));
    }
    Server(const Server&) = delete;
};

// Reference values: JA4S / JA4S_r of the Python reference (Rust for https-connect.pcap), see
// tests/data/tls/README.md.
TEST(Ja4s, MatchesReferenceOnRealServerHellos) {
    int checked = 0;
    for (const auto& row : testdata::read_expected()) {
        if (row.at("ja4s").empty()) continue;
        SCOPED_TRACE(row.at("name"));
        const Server s(row.at("name"));
        const tls::ServerHello& sh = s.sh;
        EXPECT_EQ(ja4s(sh, 't').view(), row.at("ja4s"));
        EXPECT_EQ(ja4s(sh, 't').view(), row.at("ja4s"));  // again: from the cache
        std::string r;
        ja4s_r(sh, 't', r);
        if (!row.at("ja4s_r").empty()) {
            EXPECT_EQ(r, row.at("ja4s_r"));
        }
        ++checked;
    }
    EXPECT_GE(checked, 11);
}

TEST(Ja4s, NamedCases) {
    EXPECT_EQ(ja4s(Server("latest_s1").sh, 't').view(), "t1206h2_c02f_3603f09c43ba");
    EXPECT_EQ(ja4s(Server("latest_s5").sh, 't').view(), "t130300_1301_6bbbaf601ed8");
    // The HelloRetryRequest is the first ServerHello; the references fingerprint it.
    const Server s("hrr");
    const tls::ServerHello& hrr = s.sh;
    EXPECT_TRUE(hrr.hello_retry_request);
    EXPECT_EQ(ja4s(hrr, 't').view(), "t130200_1302_a56c5b993250");
    // QUIC servers get 'q'; the rest is unchanged (chrome-cloudflare-quic:
    // q130200_1301_234ea6891581).
    EXPECT_EQ(ja4s(Server("chrome_tls13").sh, 'q').view(), "q130200_1301_234ea6891581");
}

TEST(Ja4s, NoExtensionsAndOneCharAlpn) {
    Bytes body{0x03, 0x03};
    body.resize(2 + 32, 0x42);
    testdata::append(body, Bytes{0, 0xc0, 0x30, 0});
    Bytes msg{2};
    testdata::put24(msg, body.size());
    testdata::append(msg, body);
    tls::ServerHello sh;
    ASSERT_TRUE(tls::parse_server_hello(msg, sh));
    EXPECT_EQ(ja4s(sh, 't').view(), "t120000_c030_000000000000");
    std::string r;
    ja4s_r(sh, 't', r);
    EXPECT_EQ(r, "t120000_c030_");

    // ALPN "x" (one character): "xx", as JA4 does.
    testdata::append(body, Bytes{0x00, 0x08, 0x00, 0x10, 0x00, 0x04, 0x00, 0x02, 0x01, 'x'});
    msg = {2};
    testdata::put24(msg, body.size());
    testdata::append(msg, body);
    ASSERT_TRUE(tls::parse_server_hello(msg, sh));
    EXPECT_EQ(ja4s(sh, 't').view().substr(0, 13), "t1201xx_c030_");
    ja4s_r(sh, 't', r);
    EXPECT_EQ(r, "t1201xx_c030_0010");
}

}  // namespace
}  // namespace sybilwatch::foxio
