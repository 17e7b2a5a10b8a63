#include "tls/client_hello.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tls/grease.hpp"
#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::tls {
namespace {

using testdata::Bytes;

std::vector<uint16_t> to_vector(const U16List& l) {
    return {l.begin(), l.end()};
}

std::string to_string(std::span<const uint8_t> s) {
    return {s.begin(), s.end()};
}

// Values below are tshark's dissection of the same packet (tls-handshake.pcapng, stream 0).
TEST(ClientHello, ParsesChrome) {
    const Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.client.hex"));
    ClientHello ch;
    ASSERT_TRUE(parse_client_hello(msg, false, ch));
    EXPECT_EQ(ch.legacy_version, 0x0303);
    EXPECT_EQ(ch.random.size(), 32u);
    EXPECT_EQ(ch.session_id.size(), 32u);
    EXPECT_EQ(
        to_vector(ch.ciphers()),
        (std::vector<uint16_t>{0xaaaa, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
                               0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}));
    EXPECT_EQ(ch.compression_methods.size(), 1u);
    EXPECT_EQ(ch.extensions_block.size(), 403u);
    std::vector<uint16_t> types;
    for (const Extension& e : ch.extensions())
        types.push_back(e.type);
    EXPECT_EQ(types, (std::vector<uint16_t>{39578, 65281, 51, 45, 5, 17513, 13, 16, 35, 27, 43, 0,
                                            18, 10, 23, 11, 27242, 21}));
    EXPECT_EQ(ch.extension_count, 18);
    EXPECT_TRUE(ch.has(ClientHello::HasExtensionsBlock));
    EXPECT_TRUE(ch.has(ClientHello::HasServerName));
    EXPECT_FALSE(ch.has(ClientHello::DuplicateExtension));
    EXPECT_FALSE(ch.has(ClientHello::TrailingData));
    EXPECT_EQ(ch.sni(), "clientservices.googleapis.com");
    EXPECT_EQ(to_string(ch.first_alpn()), "h2");
    EXPECT_EQ(to_vector(ch.supported_versions_list()),
              (std::vector<uint16_t>{0x0a0a, 0x0304, 0x0303}));
    EXPECT_EQ(ch.max_offered_version(), 0x0304);
    EXPECT_EQ(
        to_vector(ch.signature_algorithms_list()),
        (std::vector<uint16_t>{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}));
    EXPECT_EQ(to_vector(ch.supported_groups_list()),
              (std::vector<uint16_t>{0x0a0a, 0x001d, 0x0017, 0x0018}));
    EXPECT_EQ(Bytes(ch.ec_point_formats_list().begin(), ch.ec_point_formats_list().end()),
              Bytes{0});
}

TEST(ClientHello, EveryTruncationIsRejected) {
    for (const char* file : {"chrome_tls13.client.hex", "tls10_no_sigalgs.client.hex"}) {
        const Bytes msg = testdata::first_message(testdata::read_hex(file));
        ClientHello ch;
        for (size_t n = 0; n < msg.size(); ++n) {
            EXPECT_FALSE(parse_client_hello(std::span(msg).first(n), false, ch))
                << file << " " << n;
        }
        EXPECT_TRUE(parse_client_hello(msg, false, ch));
    }
}

TEST(ClientHello, TruncatedBodyWithConsistentLengthIsRejected) {
    // Cut the body and fix the handshake length: now the inner lengths overrun.
    Bytes msg = testdata::first_message(testdata::read_hex("chrome_tls13.client.hex"));
    ClientHello ch;
    for (size_t body = 0; body + 4 < msg.size(); ++body) {
        Bytes cut(msg.begin(), msg.begin() + 4 + static_cast<long>(body));
        cut[1] = static_cast<uint8_t>(body >> 16);
        cut[2] = static_cast<uint8_t>(body >> 8);
        cut[3] = static_cast<uint8_t>(body);
        // Cuts that end exactly after compression_methods are a valid hello without extensions.
        const bool ok = parse_client_hello(cut, false, ch);
        if (ok) {
            EXPECT_FALSE(ch.has(ClientHello::HasExtensionsBlock)) << body;
        }
    }
}

TEST(ClientHello, WithoutExtensions) {
    testdata::HelloSpec s;
    s.legacy_version = 0x0301;
    s.extensions_block = false;
    ClientHello ch;
    const Bytes msg = testdata::build_client_hello(s);
    ASSERT_TRUE(parse_client_hello(msg, false, ch));
    EXPECT_FALSE(ch.has(ClientHello::HasExtensionsBlock));
    EXPECT_EQ(ch.extension_count, 0);
    EXPECT_EQ(ch.extensions().begin(), ch.extensions().end());
    EXPECT_EQ(ch.max_offered_version(), 0x0301);
    EXPECT_TRUE(ch.sni().empty());
    EXPECT_TRUE(ch.first_alpn().empty());
}

TEST(ClientHello, EmptyCipherListParses) {
    testdata::HelloSpec s;
    s.ciphers = {};
    ClientHello ch;
    const Bytes msg = testdata::build_client_hello(s);
    ASSERT_TRUE(parse_client_hello(msg, false, ch));
    EXPECT_TRUE(ch.ciphers().empty());
}

TEST(ClientHello, OddCipherLengthIsRejected) {
    Bytes msg = testdata::build_client_hello({});
    // legacy_version(2) random(32) session_id(1+32) -> cipher length at body offset 67.
    msg[4 + 67 + 1] = 5;
    ClientHello ch;
    EXPECT_FALSE(parse_client_hello(msg, false, ch));
}

TEST(ClientHello, ExtensionOverrunIsRejected) {
    testdata::HelloSpec s;
    s.extensions = {testdata::ext_sni("example.com")};
    Bytes msg = testdata::build_client_hello(s);
    msg[msg.size() - 16 - 2] = 0x40;  // SNI extension length high byte: far past the block
    ClientHello ch;
    EXPECT_FALSE(parse_client_hello(msg, false, ch));
}

TEST(ClientHello, DuplicateExtensionKeepsTheFirst) {
    testdata::HelloSpec s;
    s.extensions = {testdata::ext_sni("first.example"), testdata::ext_sni("second.example")};
    ClientHello ch;
    const Bytes msg = testdata::build_client_hello(s);
    ASSERT_TRUE(parse_client_hello(msg, false, ch));
    EXPECT_TRUE(ch.has(ClientHello::DuplicateExtension));
    EXPECT_EQ(ch.sni(), "first.example");
    EXPECT_EQ(ch.extension_count, 2);
}

TEST(ClientHello, TrailingBytesAreFlaggedNotFatal) {
    testdata::HelloSpec s;
    s.extensions = {testdata::ext_alpn({"h2"})};
    Bytes msg = testdata::build_client_hello(s);
    msg.push_back(0xee);  // one byte after the extensions block, inside the body
    ClientHello ch;
    const size_t body = msg.size() - 4;
    msg[1] = static_cast<uint8_t>(body >> 16);
    msg[2] = static_cast<uint8_t>(body >> 8);
    msg[3] = static_cast<uint8_t>(body);
    ASSERT_TRUE(parse_client_hello(msg, false, ch));
    EXPECT_TRUE(ch.has(ClientHello::TrailingData));
    EXPECT_EQ(to_string(ch.first_alpn()), "h2");
}

TEST(ClientHello, MalformedInnerListsReadAsEmpty) {
    testdata::HelloSpec s;
    s.extensions = {{0x000d, {0x00, 0x10, 0x04, 0x03}},  // signature list claims 16 bytes
                    {0x0010, {0x00, 0x01}},              // ALPN list claims 1 byte, has none
                    {0x002b, {}},                        // empty supported_versions body
                    {0x0000, {0x00, 0x05, 0x01, 0x00, 0x02, 0x61, 0x62}}};  // non-host_name SNI
    ClientHello ch;
    const Bytes msg = testdata::build_client_hello(s);
    ASSERT_TRUE(parse_client_hello(msg, false, ch));
    EXPECT_TRUE(ch.signature_algorithms_list().empty());
    EXPECT_TRUE(ch.first_alpn().empty());
    EXPECT_TRUE(ch.has(ClientHello::HasSupportedVersions));
    EXPECT_EQ(ch.max_offered_version(), 0x0303);  // falls back to legacy_version
    EXPECT_TRUE(ch.has(ClientHello::HasServerName));
    EXPECT_TRUE(ch.sni().empty());
}

TEST(ClientHello, VersionIgnoresGreaseAndTakesTheHighest) {
    testdata::HelloSpec s;
    s.extensions = {testdata::ext_versions({0x7a7a, 0x0302, 0x0304, 0x0303})};
    ClientHello ch;
    const Bytes offered = testdata::build_client_hello(s);
    ASSERT_TRUE(parse_client_hello(offered, false, ch));
    EXPECT_EQ(ch.max_offered_version(), 0x0304);
    s.extensions = {testdata::ext_versions({0x7a7a})};  // only GREASE: legacy_version
    const Bytes only_grease = testdata::build_client_hello(s);
    ASSERT_TRUE(parse_client_hello(only_grease, false, ch));
    EXPECT_EQ(ch.max_offered_version(), 0x0303);
}

TEST(ClientHello, DtlsCookie) {
    testdata::HelloSpec s;
    s.dtls = true;
    s.legacy_version = 0xfefd;
    s.cookie = Bytes(20, 0xcc);
    s.extensions = {testdata::ext_sni("dtls.example")};
    const Bytes msg = testdata::build_client_hello(s);
    ClientHello ch;
    ASSERT_TRUE(parse_client_hello(msg, true, ch));
    EXPECT_TRUE(ch.is_dtls);
    EXPECT_EQ(ch.cookie.size(), 20u);
    EXPECT_EQ(ch.ciphers().size(), 3u);
    EXPECT_EQ(ch.sni(), "dtls.example");
}

TEST(ClientHello, WrongMessageType) {
    Bytes msg = testdata::build_client_hello({});
    msg[0] = 2;
    ClientHello ch;
    EXPECT_FALSE(parse_client_hello(msg, false, ch));
}

}  // namespace
}  // namespace sybilwatch::tls
