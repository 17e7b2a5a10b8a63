#include "quic/long_header.hpp"

#include <gtest/gtest.h>

#include "unit/quic/quic_test_util.hpp"

namespace sybilwatch::quic {
namespace {

using test::Bytes;
using test::from_hex;

TEST(LooksLikeInitial, RfcAndCapturedInitials) {
    for (const char* f : {"rfc9001_a2_client_initial.hex", "rfc9001_a3_server_initial.hex",
                          "rfc9369_a2_client_initial.hex", "rfc9369_a3_server_initial.hex",
                          "several-tls-frames.hex", "tls-handshake.hex"}) {
        for (const auto& d : test::load_datagrams(f))
            EXPECT_TRUE(looks_like_initial(d.bytes)) << f;
    }
}

TEST(LooksLikeInitial, ChromeCloudflareFlight) {
    // Frames 47-53: client Initial, two server Initial+Handshake datagrams, then Handshake only.
    const auto d = test::load_datagrams("chrome-cloudflare.hex");
    ASSERT_EQ(d.size(), 7u);
    const bool expected[] = {true, true, true, false, false, false, false};
    for (size_t i = 0; i < d.size(); ++i)
        EXPECT_EQ(looks_like_initial(d[i].bytes), expected[i]) << i;
}

TEST(LooksLikeInitial, RejectsOtherPackets) {
    Bytes init = test::load_blob("rfc9001_a2_client_initial.hex");
    EXPECT_FALSE(looks_like_initial({}));
    EXPECT_FALSE(looks_like_initial(Bytes{0xc0}));
    Bytes b = init;
    b[0] &= 0x7f;  // short header
    EXPECT_FALSE(looks_like_initial(b));
    b = init;
    b[0] &= ~0x40;  // fixed bit cleared
    EXPECT_FALSE(looks_like_initial(b));
    b = init;
    b[1] = b[2] = b[3] = b[4] = 0;  // Version Negotiation
    EXPECT_FALSE(looks_like_initial(b));
    b = init;
    b[4] = 0x02;  // unknown version 2 (not the RFC 9369 number)
    EXPECT_FALSE(looks_like_initial(b));
    b = init;
    b[0] = (b[0] & 0xcf) | 0x20;  // v1 Handshake
    EXPECT_FALSE(looks_like_initial(b));
    b = init;
    b[5] = 21;  // DCID longer than 20 bytes
    EXPECT_FALSE(looks_like_initial(b));
    b = init;
    b.resize(b.size() - 1);  // Length runs past the datagram
    EXPECT_FALSE(looks_like_initial(b));
    // A draft-29 Initial header is accepted.
    b = init;
    b[1] = 0xff;
    b[2] = 0x00;
    b[3] = 0x00;
    b[4] = 0x1d;
    EXPECT_TRUE(looks_like_initial(b));
}

TEST(ParseLongHeader, RfcClientInitialFields) {
    const Bytes pkt = test::load_blob("rfc9001_a2_client_initial.hex");
    LongHeader h;
    ASSERT_EQ(parse_long_header(pkt, 0, h), HeaderResult::Ok);
    EXPECT_EQ(h.version->version, kVersion1);
    EXPECT_EQ(h.type, PacketType::Initial);
    EXPECT_EQ(test::to_hex(h.dcid), "8394c8f03e515708");
    EXPECT_TRUE(h.scid.empty());
    EXPECT_TRUE(h.token.empty());
    EXPECT_EQ(h.pn_offset, 18u);  // as RFC 9001 A.2 works out
    EXPECT_EQ(h.end, 1200u);
}

TEST(ParseLongHeader, ServerInitialPaddedWithZeros) {
    // Frame 49 of chrome-cloudflare: a 141-byte Initial (ServerHello), then zeros to 1200 bytes.
    const auto d = test::load_datagrams("chrome-cloudflare.hex");
    const Bytes& dg = d[2].bytes;
    LongHeader a, b;
    ASSERT_EQ(parse_long_header(dg, 0, a), HeaderResult::Ok);
    EXPECT_EQ(a.type, PacketType::Initial);
    EXPECT_TRUE(a.dcid.empty());
    EXPECT_EQ(a.scid.size(), 20u);
    EXPECT_EQ(a.end, 141u);
    EXPECT_EQ(parse_long_header(dg, a.end, b), HeaderResult::NotLongHeader);
}

TEST(ParseLongHeader, SplitsCoalescedPackets) {
    // The server Initial of frame 49 followed by the Handshake packets of frames 50 and 51.
    const auto d = test::load_datagrams("chrome-cloudflare.hex");
    LongHeader h;
    ASSERT_EQ(parse_long_header(d[2].bytes, 0, h), HeaderResult::Ok);
    Bytes dg(d[2].bytes.begin(), d[2].bytes.begin() + static_cast<ptrdiff_t>(h.end));
    const size_t first_end = dg.size();
    dg.insert(dg.end(), d[3].bytes.begin(), d[3].bytes.end());
    dg.insert(dg.end(), d[4].bytes.begin(), d[4].bytes.end());
    LongHeader a, b, c, e;
    ASSERT_EQ(parse_long_header(dg, 0, a), HeaderResult::Ok);
    EXPECT_EQ(a.type, PacketType::Initial);
    EXPECT_EQ(a.end, first_end);
    ASSERT_EQ(parse_long_header(dg, a.end, b), HeaderResult::Ok);
    EXPECT_EQ(b.type, PacketType::Handshake);
    EXPECT_EQ(b.end, first_end + d[3].bytes.size());
    ASSERT_EQ(parse_long_header(dg, b.end, c), HeaderResult::Ok);
    EXPECT_EQ(c.type, PacketType::Handshake);
    EXPECT_EQ(c.end, dg.size());
    EXPECT_EQ(parse_long_header(dg, c.end, e), HeaderResult::NotLongHeader);
}

TEST(ParseLongHeader, TokenAndRetry) {
    // Initial with a 3-byte token, then a Retry (no Length field: it runs to the end).
    Bytes p = from_hex("c0 00000001 04 01020304 00 03 aabbcc 40 14");
    p.resize(p.size() + 0x14, 0x55);
    LongHeader h;
    ASSERT_EQ(parse_long_header(p, 0, h), HeaderResult::Ok);
    EXPECT_EQ(test::to_hex(h.token), "aabbcc");
    EXPECT_EQ(h.end, p.size());
    const Bytes retry =
        from_hex("f0 00000001 00 04 0a0b0c0d 746f6b656e 00112233445566778899aabbccddeeff");
    ASSERT_EQ(parse_long_header(retry, 0, h), HeaderResult::Ok);
    EXPECT_EQ(h.type, PacketType::Retry);
    EXPECT_EQ(h.end, retry.size());
}

TEST(ParseLongHeader, EveryTruncationIsReported) {
    const Bytes pkt = test::load_blob("rfc9001_a2_client_initial.hex");
    for (size_t n = 1; n < pkt.size(); ++n) {
        LongHeader h;
        const Bytes cut(pkt.begin(), pkt.begin() + static_cast<ptrdiff_t>(n));
        EXPECT_EQ(parse_long_header(cut, 0, h), HeaderResult::Truncated) << n;
    }
    LongHeader h;
    EXPECT_EQ(parse_long_header(pkt, pkt.size(), h), HeaderResult::NotLongHeader);
    EXPECT_EQ(parse_long_header(pkt, pkt.size() + 5, h), HeaderResult::NotLongHeader);
}

TEST(ParseLongHeader, TokenLengthBeyondDatagram) {
    // Token length 0x3fff (2-byte varint) in a tiny packet.
    const Bytes p = from_hex("c0 00000001 00 00 7fff 00");
    LongHeader h;
    EXPECT_EQ(parse_long_header(p, 0, h), HeaderResult::Truncated);
    // 8-byte varint token length near 2^62: no overflow.
    const Bytes q = from_hex("c0 00000001 00 00 ffffffffffffffff 00");
    EXPECT_EQ(parse_long_header(q, 0, h), HeaderResult::Truncated);
    const Bytes r = from_hex("c0 00000001 00 15");
    EXPECT_EQ(parse_long_header(r, 0, h), HeaderResult::Malformed);
}

}  // namespace
}  // namespace sybilwatch::quic
