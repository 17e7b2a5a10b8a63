#include "quic/initial_frames.hpp"

#include <gtest/gtest.h>

#include "unit/quic/quic_test_util.hpp"
#include "unit/quic/rfc_vectors.hpp"

namespace sybilwatch::quic {
namespace {

using test::Bytes;
using test::from_hex;

std::span<const uint8_t> message_of(const CryptoStream& s) {
    std::span<const uint8_t> out;
    return s.first_message(out) == CryptoStream::MessageState::Complete
               ? out
               : std::span<const uint8_t>{};
}

TEST(InitialFrames, RfcServerPayload) {
    // RFC 9001 A.3: ACK (largest 0, delay 0, no ranges) then CRYPTO with the ServerHello.
    const Bytes p = from_hex(test::kRfcServerPayload);
    CryptoStream s(4096);
    FrameCounts c;
    EXPECT_EQ(parse_initial_frames(p, s, c), FrameResult::Ok);
    EXPECT_EQ(c.ack, 1u);
    EXPECT_EQ(c.crypto, 1u);
    const auto m = message_of(s);
    ASSERT_EQ(m.size(), 90u);
    EXPECT_EQ(m[0], 0x02);
}

TEST(InitialFrames, RfcClientPayloadWithPadding) {
    Bytes p = from_hex(test::kRfcClientCryptoFrame);
    p.resize(test::kRfcClientPayloadLength, 0);
    CryptoStream s(4096);
    FrameCounts c;
    EXPECT_EQ(parse_initial_frames(p, s, c), FrameResult::Ok);
    EXPECT_EQ(c.crypto, 1u);
    EXPECT_EQ(c.padding_bytes, test::kRfcClientPayloadLength - 245);
    EXPECT_EQ(message_of(s).size(), 241u);
}

TEST(InitialFrames, AckWithRangesAndEcnPingAndClose) {
    // PING; ACK_ECN largest 100, delay 5, 2 ranges (gap/len pairs), ECN counts 1,2,3;
    // CRYPTO "01 000001 aa"; CONNECTION_CLOSE error 0x0a, frame type 0x06, reason "bye".
    const Bytes p = from_hex(
        "01"
        "03 4064 05 02 03 0102 0304 01 02 03"
        "06 00 05 0100000 1aa"
        "1c 0a 06 03 627965");
    CryptoStream s(64);
    FrameCounts c;
    EXPECT_EQ(parse_initial_frames(p, s, c), FrameResult::Ok);
    EXPECT_EQ(c.ping, 1u);
    EXPECT_EQ(c.ack, 1u);
    EXPECT_EQ(c.crypto, 1u);
    EXPECT_EQ(c.connection_close, 1u);
    EXPECT_EQ(message_of(s).size(), 5u);
}

TEST(InitialFrames, StopsAtDisallowedFrameKeepingEarlierData) {
    // CRYPTO then STREAM (0x08), which may not appear in an Initial packet.
    const Bytes p = from_hex("06 00 05 0100000 1aa 08 00 01 ff");
    CryptoStream s(64);
    FrameCounts c;
    EXPECT_EQ(parse_initial_frames(p, s, c), FrameResult::Disallowed);
    EXPECT_EQ(message_of(s).size(), 5u);
    // APPLICATION_CLOSE (0x1d) is not allowed in Initial either.
    EXPECT_EQ(parse_initial_frames(from_hex("1d 00 00"), s, c), FrameResult::Disallowed);
}

TEST(InitialFrames, MalformedFrames) {
    CryptoStream s(64);
    FrameCounts c;
    const char* bad[] = {
        "06 00 05 0100",                 // CRYPTO data shorter than its length
        "06 00",                         // CRYPTO without length
        "06 c0",                         // truncated 8-byte varint offset
        "06 ffffffffffffffff 02 0000",   // offset + length past 2^62 - 1
        "02 00 00 ffffffffffffffff 00",  // ACK with a huge range count runs out of bytes
        "03 00 00 00 00 01",             // ACK_ECN missing counts
        "1c 00 00 3fff",                 // CONNECTION_CLOSE reason runs past the payload
        "40",                            // truncated frame type
    };
    for (const char* h : bad) {
        EXPECT_EQ(parse_initial_frames(from_hex(h), s, c), FrameResult::Malformed) << h;
    }
    EXPECT_EQ(s.contiguous(), 0u);
}

TEST(InitialFrames, NonMinimalTypeEncodings) {
    // 0x4006 is CRYPTO in two bytes, 0x4000 a two-byte PADDING.
    const Bytes p = from_hex("4000 4006 00 05 0100000 1aa");
    CryptoStream s(64);
    FrameCounts c;
    EXPECT_EQ(parse_initial_frames(p, s, c), FrameResult::Ok);
    EXPECT_EQ(message_of(s).size(), 5u);
}

}  // namespace
}  // namespace sybilwatch::quic
