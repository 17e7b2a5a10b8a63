// AEAD and header protection against the example packets of RFC 9001 Appendix A and RFC 9369
// Appendix A: sealing the published plaintexts must give the published packets byte for byte,
// which also validates the packet builder the decoder tests use.
#include "quic/packet_protection.hpp"

#include <gtest/gtest.h>

#include "unit/quic/quic_test_util.hpp"
#include "unit/quic/rfc_vectors.hpp"

namespace sybilwatch::quic {
namespace {

using test::Bytes;
using test::from_hex;
using test::to_hex;

Bytes rfc_client_payload() {
    Bytes p = from_hex(test::kRfcClientCryptoFrame);
    p.resize(test::kRfcClientPayloadLength, 0);  // PADDING frames
    return p;
}

TEST(HeaderProtection, MaskMatchesRfc) {
    const auto dcid = from_hex(test::kRfcDcid);
    std::array<uint8_t, 5> mask;
    // RFC 9001 A.2 and RFC 9369 A.2: sample and mask of the client Initial.
    auto k1 = test::keys_for(*find_version(kVersion1), dcid, Perspective::Client);
    auto s1 = from_hex("d1b1c98dd7689fb8ec11d242b123dc9b");
    ASSERT_TRUE(header_protection_mask(k1.hp, std::span<const uint8_t>(s1).first<16>(), mask));
    EXPECT_EQ(to_hex(mask), "437b9aec36");
    auto k2 = test::keys_for(*find_version(kVersion2), dcid, Perspective::Client);
    auto s2 = from_hex("ffe67b6abcdb4298b485dd04de806071");
    ASSERT_TRUE(header_protection_mask(k2.hp, std::span<const uint8_t>(s2).first<16>(), mask));
    EXPECT_EQ(to_hex(mask), "94a0c95e80");
}

struct PacketCase {
    uint32_t version;
    Perspective who;
    const char* file;
};

class RfcPacketTest : public ::testing::TestWithParam<PacketCase> {};

TEST_P(RfcPacketTest, SealingReproducesThePublishedPacket) {
    const auto& c = GetParam();
    const VersionParams& v = *find_version(c.version);
    const auto dcid = from_hex(test::kRfcDcid);
    const auto keys = test::keys_for(v, dcid, c.who);
    test::InitialSpec spec{&v, {}, {}, {}, 0, 4};
    Bytes payload;
    if (c.who == Perspective::Client) {
        spec.dcid = dcid;
        spec.pn = 2;
        spec.pn_len = 4;
        payload = rfc_client_payload();
    } else {
        spec.scid = from_hex(test::kRfcServerScid);
        spec.pn = 1;
        spec.pn_len = 2;
        payload = from_hex(test::kRfcServerPayload);
    }
    const Bytes expected = test::load_blob(c.file);
    const Bytes built = test::protect_initial(spec, keys, payload);
    EXPECT_EQ(to_hex(built), to_hex(expected));
}

TEST_P(RfcPacketTest, OpeningRejectsAnyTampering) {
    const auto& c = GetParam();
    const VersionParams& v = *find_version(c.version);
    const auto keys = test::keys_for(v, from_hex(test::kRfcDcid), c.who);
    const Bytes pkt = test::load_blob(c.file);
    // Header length, packet number and its length in the RFC examples.
    const bool client = c.who == Perspective::Client;
    const size_t header_len = client ? 22 : 20;
    const uint64_t pn = client ? 2 : 1;
    const size_t pn_len = client ? 4 : 2;
    const size_t pn_offset = header_len - pn_len;
    // Undo header protection as the RFC does: the sample starts 4 bytes past the pn offset.
    std::array<uint8_t, 5> mask;
    ASSERT_TRUE(header_protection_mask(
        keys.hp, std::span<const uint8_t>(pkt).subspan(pn_offset + 4).first<16>(), mask));
    Bytes header(pkt.begin(), pkt.begin() + static_cast<ptrdiff_t>(header_len));
    header[0] ^= mask[0] & 0x0f;
    for (size_t i = 0; i < pn_len; ++i)
        header[pn_offset + i] ^= mask[1 + i];

    const std::span<const uint8_t> sealed(pkt.data() + header_len, pkt.size() - header_len);
    Bytes out(sealed.size() - kAeadTagLength);
    ASSERT_TRUE(aead_open(keys, pn, header, sealed, out));
    const Bytes expected =
        c.who == Perspective::Client ? rfc_client_payload() : from_hex(test::kRfcServerPayload);
    EXPECT_EQ(out, expected);

    EXPECT_FALSE(aead_open(keys, pn + 1, header, sealed, out));  // wrong nonce
    Bytes bad_header = header;
    bad_header[1] ^= 0x01;
    EXPECT_FALSE(aead_open(keys, pn, bad_header, sealed, out));  // AAD changed
    Bytes bad = Bytes(sealed.begin(), sealed.end());
    bad.back() ^= 0x80;
    EXPECT_FALSE(aead_open(keys, pn, header, bad, out));  // tag changed
    bad = Bytes(sealed.begin(), sealed.end());
    bad[0] ^= 0x01;
    EXPECT_FALSE(aead_open(keys, pn, header, bad, out));  // ciphertext changed
    auto other = test::keys_for(v, from_hex("8394c8f03e515709"), c.who);
    EXPECT_FALSE(aead_open(other, pn, header, sealed, out));  // keys of another DCID
    EXPECT_FALSE(aead_open(keys, pn, header, sealed.first(kAeadTagLength - 1), out));
}

INSTANTIATE_TEST_SUITE_P(
    Rfc, RfcPacketTest,
    ::testing::Values(PacketCase{kVersion1, Perspective::Client, "rfc9001_a2_client_initial.hex"},
                      PacketCase{kVersion1, Perspective::Server, "rfc9001_a3_server_initial.hex"},
                      PacketCase{kVersion2, Perspective::Client, "rfc9369_a2_client_initial.hex"},
                      PacketCase{kVersion2, Perspective::Server, "rfc9369_a3_server_initial.hex"}));

TEST(Aead, EmptyPlaintextRoundTrips) {
    const auto keys =
        test::keys_for(*find_version(kVersion1), from_hex(test::kRfcDcid), Perspective::Client);
    const Bytes aad = {0xc0, 0x01};
    Bytes sealed(kAeadTagLength);
    ASSERT_TRUE(aead_seal(keys, 7, aad, {}, sealed));
    Bytes out;
    EXPECT_TRUE(aead_open(keys, 7, aad, sealed, out));
    EXPECT_FALSE(aead_open(keys, 8, aad, sealed, out));
}

}  // namespace
}  // namespace sybilwatch::quic
