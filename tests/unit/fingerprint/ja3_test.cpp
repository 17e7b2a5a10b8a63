#include "fingerprint/ja3.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "tls/record.hpp"
#include "unit/tls/hello_test_data.hpp"

namespace sybilwatch::fingerprint {
namespace {

using testdata::Bytes;

tls::ClientHello parse_stream(const Bytes& stream, std::span<uint8_t> scratch, bool dtls) {
    std::span<const uint8_t> msg;
    const tls::Extract e =
        dtls ? tls::extract_dtls_client_hello(stream, scratch, msg)
             : tls::extract_handshake(stream, tls::handshake_type::ClientHello, scratch, msg);
    EXPECT_EQ(e, tls::Extract::Complete);
    tls::ClientHello ch;
    EXPECT_TRUE(tls::parse_client_hello(msg, dtls, ch));
    return ch;
}

// Expected values: tshark 4.0's tls.handshake.ja3 / ja3_full (dtls.handshake.ja3) for the same
// packets, see tests/data/tls/README.md.
TEST(Ja3, MatchesTsharkOnRealHellos) {
    std::array<uint8_t, 16384> scratch{};
    int checked = 0;
    for (const auto& row : testdata::read_expected()) {
        SCOPED_TRACE(row.at("name"));
        const bool dtls = row.at("name") == "dtls_client_hello";
        const Bytes stream = testdata::read_hex(row.at("name") + (dtls ? ".hex" : ".client.hex"));
        const tls::ClientHello ch = parse_stream(stream, scratch, dtls);
        std::string full;
        const Ja3 j = ja3(ch, full);
        EXPECT_EQ(j.view(), row.at("ja3"));
        // The cached form: a miss, then a hit, both the same hash.
        EXPECT_EQ(ja3_hash(ch).view(), row.at("ja3"));
        EXPECT_EQ(ja3_hash(ch).view(), row.at("ja3"));
        if (!row.at("ja3_full").empty()) {
            EXPECT_EQ(full, row.at("ja3_full"));
        }
        ++checked;
    }
    EXPECT_GE(checked, 13);
}

TEST(Ja3, GreaseRemovedFromEveryList) {
    testdata::HelloSpec s;
    s.ciphers = {0x0a0a, 0x1301, 0xc02f};
    s.extensions = {testdata::ext_empty(0x1a1a), testdata::ext_sni("x.example"),
                    testdata::ext_groups({0x2a2a, 0x001d, 0x0017}),
                    testdata::ext_point_formats({0, 1}), testdata::ext_empty(0xfafa)};
    const testdata::OwnedHello h(testdata::build_client_hello(s));
    ASSERT_TRUE(h.ok);
    const tls::ClientHello& ch = h.ch;
    std::string full;
    ja3(ch, full);
    EXPECT_EQ(full, "771,4865-49199,0-10-11,29-23,0-1");
}

TEST(Ja3, NoExtensions) {
    testdata::HelloSpec s;
    s.legacy_version = 0x0301;
    s.ciphers = {0x002f, 0x0035};
    s.extensions_block = false;
    const testdata::OwnedHello h(testdata::build_client_hello(s));
    ASSERT_TRUE(h.ok);
    const tls::ClientHello& ch = h.ch;
    std::string full = "stale text from an earlier connection";
    const Ja3 j = ja3(ch, full);
    EXPECT_EQ(full, "769,47-53,,,");
    // printf "769,47-53,,," | md5sum
    EXPECT_EQ(j.view(), "dac4920d4335e769327dbf4e1b759e15");
}

}  // namespace
}  // namespace sybilwatch::fingerprint
