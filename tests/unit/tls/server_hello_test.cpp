#include "tls/server_hello.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::tls {
namespace {

using testdata::Bytes;

std::vector<uint16_t> types(const ServerHello& sh) {
    std::vector<uint16_t> t;
    for (const Extension& e : sh.extensions())
        t.push_back(e.type);
    return t;
}

// Expected values are tshark's dissection of the same packets.
TEST(ServerHello, Tls13) {
    const Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.server.hex"));
    ServerHello sh;
    ASSERT_TRUE(parse_server_hello(msg, sh));
    EXPECT_EQ(sh.legacy_version, 0x0303);
    EXPECT_EQ(sh.cipher_suite, 0x1301);
    EXPECT_EQ(types(sh), (std::vector<uint16_t>{51, 43}));
    EXPECT_EQ(sh.extension_count, 2);
    EXPECT_TRUE(sh.has_selected_version);
    EXPECT_EQ(sh.version(), 0x0304);
    EXPECT_FALSE(sh.has_alpn);
    EXPECT_FALSE(sh.hello_retry_request);
}

TEST(ServerHello, Tls12WithAlpn) {
    const Bytes msg = testdata::first_message(testdata::read_hex("latest_s1.server.hex"));
    ServerHello sh;
    ASSERT_TRUE(parse_server_hello(msg, sh));
    EXPECT_EQ(sh.cipher_suite, 0xc02f);
    EXPECT_EQ(types(sh), (std::vector<uint16_t>{0, 11, 65281, 16, 35, 23}));
    EXPECT_FALSE(sh.has_selected_version);
    EXPECT_EQ(sh.version(), 0x0303);
    EXPECT_TRUE(sh.has_alpn);
    EXPECT_EQ(std::string(sh.selected_alpn.begin(), sh.selected_alpn.end()), "h2");
}

TEST(ServerHello, HelloRetryRequestIsFlagged) {
    // tls-handshake.pcapng stream 38: the server's first ServerHello (frame 124) has the
    // HelloRetryRequest random.
    const Bytes msg = testdata::first_message(testdata::read_hex("hrr.server.hex"));
    ServerHello sh;
    ASSERT_TRUE(parse_server_hello(msg, sh));
    EXPECT_TRUE(sh.hello_retry_request);
    EXPECT_EQ(sh.version(), 0x0304);
    EXPECT_EQ(sh.cipher_suite, 0x1302);
}

TEST(ServerHello, EveryTruncationIsRejected) {
    const Bytes msg = testdata::first_message(testdata::read_hex("latest_s1.server.hex"));
    ServerHello sh;
    for (size_t n = 0; n < msg.size(); ++n) {
        EXPECT_FALSE(parse_server_hello(std::span(msg).first(n), sh)) << n;
    }
}

TEST(ServerHello, WithoutExtensionsAndMalformedVersion) {
    // legacy_version, random, empty session id, cipher, compression: no extensions.
    Bytes body{0x03, 0x01};
    body.resize(2 + 32, 0x42);
    testdata::append(body, Bytes{0, 0x00, 0x05, 0});
    Bytes msg{2};
    testdata::put24(msg, body.size());
    testdata::append(msg, body);
    ServerHello sh;
    ASSERT_TRUE(parse_server_hello(msg, sh));
    EXPECT_FALSE(sh.has_extensions_block);
    EXPECT_EQ(sh.version(), 0x0301);
    EXPECT_EQ(sh.cipher_suite, 0x0005);

    // supported_versions with a 3-byte body is ignored, not trusted.
    testdata::append(body, Bytes{0, 7, 0x00, 0x2b, 0x00, 0x03, 0x03, 0x04, 0x00});
    msg = {2};
    testdata::put24(msg, body.size());
    testdata::append(msg, body);
    ASSERT_TRUE(parse_server_hello(msg, sh));
    EXPECT_FALSE(sh.has_selected_version);
    EXPECT_EQ(sh.version(), 0x0301);
}

}  // namespace
}  // namespace sybilwatch::tls
