// Key schedule against the published vectors: RFC 9001 A.1 (v1), RFC 9369 A.1 (v2) and
// draft-ietf-quic-tls-29 A.1 (draft-29), all for the client DCID 0x8394c8f03e515708.
#include "quic/initial_keys.hpp"

#include <gtest/gtest.h>

#include "quic/version.hpp"
#include "unit/quic/quic_test_util.hpp"
#include "unit/quic/rfc_vectors.hpp"

namespace sybilwatch::quic {
namespace {

using test::from_hex;
using test::to_hex;

struct KeyVector {
    uint32_t version;
    const char* client_secret;  // nullptr: not published
    const char* server_secret;
    const char* client_key;
    const char* client_iv;
    const char* client_hp;
    const char* server_key;
    const char* server_iv;
    const char* server_hp;
};

class InitialKeysTest : public ::testing::TestWithParam<KeyVector> {};

TEST_P(InitialKeysTest, MatchesPublishedVectors) {
    const KeyVector& v = GetParam();
    const VersionParams* params = find_version(v.version);
    ASSERT_NE(params, nullptr);
    const auto dcid = from_hex(test::kRfcDcid);

    InitialSecret client{}, server{};
    ASSERT_TRUE(derive_initial_secrets(*params, dcid, client, server));
    EXPECT_EQ(to_hex(client), v.client_secret);
    EXPECT_EQ(to_hex(server), v.server_secret);

    PacketKeys c, s;
    ASSERT_TRUE(derive_initial_keys(*params, dcid, Perspective::Client, c));
    ASSERT_TRUE(derive_initial_keys(*params, dcid, Perspective::Server, s));
    EXPECT_EQ(to_hex(c.key), v.client_key);
    EXPECT_EQ(to_hex(c.iv), v.client_iv);
    EXPECT_EQ(to_hex(c.hp), v.client_hp);
    EXPECT_EQ(to_hex(s.key), v.server_key);
    EXPECT_EQ(to_hex(s.iv), v.server_iv);
    EXPECT_EQ(to_hex(s.hp), v.server_hp);

    // The two-step path gives the same keys.
    PacketKeys c2;
    ASSERT_TRUE(derive_packet_keys(*params, client, c2));
    EXPECT_EQ(c2.key, c.key);
    EXPECT_EQ(c2.iv, c.iv);
    EXPECT_EQ(c2.hp, c.hp);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc, InitialKeysTest,
    ::testing::Values(
        KeyVector{kVersion1, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
                  "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
                  "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
                  "9f50449e04a0e810283a1e9933adedd2", "cf3a5331653c364c88f0f379b6067e37",
                  "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
        KeyVector{kVersion2, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
                  "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
                  "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
                  "45b95e15235d6f45a6b19cbcb0294ba9", "82db637861d55e1d011f19ea71d5d2a7",
                  "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
        KeyVector{kVersionDraft29,
                  "0088119288f1d866733ceeed15ff9d50902cf82952eee27e9d4d4918ea371d87",
                  "006f881359244dd9ad1acf85f595bad67c13f9f5586f5e64e1acae1d9ea8f616",
                  "175257a31eb09dea9366d8bb79ad80ba", "6b26114b9cba2b63a9e8dd4f",
                  "9ddd12c994c0698b89374a9c077a3077", "149d0b1662ab871fbe63c49b5e655a5d",
                  "bab2b12a4c76016ace47856d", "c0c499a65a60024a18a250974ea01dfa"}));

TEST(InitialKeys, DifferentDcidGivesDifferentKeys) {
    PacketKeys a, b;
    const auto dcid = from_hex(test::kRfcDcid);
    auto other = dcid;
    other[7] ^= 1;
    ASSERT_TRUE(derive_initial_keys(*find_version(kVersion1), dcid, Perspective::Client, a));
    ASSERT_TRUE(derive_initial_keys(*find_version(kVersion1), other, Perspective::Client, b));
    EXPECT_NE(a.key, b.key);
    EXPECT_NE(a.hp, b.hp);
}

TEST(InitialKeys, EmptyAndMaximalDcidDerive) {
    // A zero-length or 20-byte DCID is legal on the wire; derivation must not fail or crash.
    PacketKeys a, b;
    EXPECT_TRUE(derive_initial_keys(*find_version(kVersion1), {}, Perspective::Client, a));
    const std::vector<uint8_t> max(20, 0xab);
    EXPECT_TRUE(derive_initial_keys(*find_version(kVersion1), max, Perspective::Client, b));
    EXPECT_NE(a.key, b.key);
}

TEST(Version, KnownAndUnknown) {
    EXPECT_NE(find_version(kVersion1), nullptr);
    EXPECT_NE(find_version(kVersion2), nullptr);
    EXPECT_NE(find_version(kVersionDraft29), nullptr);
    EXPECT_EQ(find_version(0), nullptr);           // Version Negotiation
    EXPECT_EQ(find_version(0x1a2a3a4a), nullptr);  // greased (RFC 9000 §15)
    EXPECT_EQ(find_version(0xff00001c), nullptr);  // draft-28: other salt, not supported
}

TEST(Version, V2RenumbersPacketTypes) {
    const auto& v1 = *find_version(kVersion1);
    const auto& v2 = *find_version(kVersion2);
    // First bytes of the RFC example packets, and Handshake/Retry codes per RFC 9369 §3.2.
    EXPECT_EQ(long_packet_type(v1, 0xc3), PacketType::Initial);
    EXPECT_EQ(long_packet_type(v2, 0xd3), PacketType::Initial);
    EXPECT_EQ(long_packet_type(v1, 0xe0), PacketType::Handshake);
    EXPECT_EQ(long_packet_type(v2, 0xf0), PacketType::Handshake);
    EXPECT_EQ(long_packet_type(v1, 0xf0), PacketType::Retry);
    EXPECT_EQ(long_packet_type(v2, 0xc0), PacketType::Retry);
    EXPECT_EQ(long_packet_type(v1, 0xd0), PacketType::ZeroRtt);
    EXPECT_EQ(long_packet_type(v2, 0xe0), PacketType::ZeroRtt);
}

}  // namespace
}  // namespace sybilwatch::quic
