#include "quic/crypto_stream.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace sybilwatch::quic {
namespace {

using Bytes = std::vector<uint8_t>;
using Add = CryptoStream::AddResult;
using Msg = CryptoStream::MessageState;

// A handshake message of `body` bytes: type 1, 24-bit length, then a counting pattern.
Bytes message(size_t body) {
    Bytes m = {0x01, static_cast<uint8_t>(body >> 16), static_cast<uint8_t>(body >> 8),
               static_cast<uint8_t>(body)};
    for (size_t i = 0; i < body; ++i)
        m.push_back(static_cast<uint8_t>(i * 7 + 3));
    return m;
}

std::span<const uint8_t> slice(const Bytes& b, size_t off, size_t len) {
    return std::span<const uint8_t>(b).subspan(off, len);
}

TEST(CryptoStream, NoAllocationUntilData) {
    CryptoStream s(1024);
    EXPECT_FALSE(s.allocated());
    EXPECT_EQ(s.add(0, {}), Add::Duplicate);
    EXPECT_EQ(s.add(1024, Bytes{1}), Add::OutOfWindow);
    EXPECT_FALSE(s.allocated());
    EXPECT_EQ(s.add(10, Bytes{1}), Add::Stored);
    EXPECT_TRUE(s.allocated());
}

TEST(CryptoStream, OutOfOrderWithHolesAcrossWordBoundaries) {
    const Bytes m = message(300);
    CryptoStream s(1000);
    std::span<const uint8_t> out;
    // Pieces that straddle 64-bit bitmap words, delivered last-first.
    const std::pair<size_t, size_t> pieces[] = {{250, 54}, {128, 122}, {63, 65}, {1, 62}, {0, 1}};
    for (size_t i = 0; i < std::size(pieces); ++i) {
        EXPECT_EQ(s.first_message(out), Msg::Incomplete);
        EXPECT_EQ(s.contiguous(), 0u);
        EXPECT_EQ(s.add(pieces[i].first, slice(m, pieces[i].first, pieces[i].second)), Add::Stored);
    }
    EXPECT_EQ(s.contiguous(), m.size());
    ASSERT_EQ(s.first_message(out), Msg::Complete);
    EXPECT_EQ(Bytes(out.begin(), out.end()), m);
}

TEST(CryptoStream, FirstCopyWinsAndDuplicatesAreReported) {
    const Bytes m = message(20);
    CryptoStream s(64);
    EXPECT_EQ(s.add(0, slice(m, 0, 10)), Add::Stored);
    EXPECT_EQ(s.add(0, slice(m, 0, 10)), Add::Duplicate);
    Bytes forged(m.begin(), m.end());
    for (auto& b : forged)
        b ^= 0xff;
    // Overlaps [5, 15): only [10, 15) is new, and it comes from the forged copy.
    EXPECT_EQ(s.add(5, slice(forged, 5, 10)), Add::Stored);
    EXPECT_EQ(s.add(15, slice(m, 15, 9)), Add::Stored);
    std::span<const uint8_t> out;
    ASSERT_EQ(s.first_message(out), Msg::Complete);
    for (size_t i = 0; i < 10; ++i)
        EXPECT_EQ(out[i], m[i]) << i;
    for (size_t i = 10; i < 15; ++i)
        EXPECT_EQ(out[i], forged[i]) << i;
}

TEST(CryptoStream, DataPastTheWindowIsClipped) {
    CryptoStream s(100);  // not a multiple of 64
    Bytes big(150, 0xaa);
    EXPECT_EQ(s.add(0, big), Add::Stored);
    EXPECT_EQ(s.contiguous(), 100u);
    EXPECT_EQ(s.add(99, Bytes{1, 2}), Add::Duplicate);
    EXPECT_EQ(s.add(uint64_t{1} << 61, Bytes{1}), Add::OutOfWindow);
}

TEST(CryptoStream, MessageLargerThanWindow) {
    CryptoStream s(256);
    const Bytes m = message(300);
    s.add(0, slice(m, 0, 256));
    std::span<const uint8_t> out;
    EXPECT_EQ(s.first_message(out), Msg::TooLarge);
    // Exactly the window is fine.
    CryptoStream t(304);
    t.add(0, m);
    EXPECT_EQ(t.first_message(out), Msg::Complete);
    EXPECT_EQ(out.size(), 304u);
}

TEST(CryptoStream, ClearKeepsTheWindow) {
    CryptoStream s(128);
    const Bytes m = message(10);
    s.add(0, m);
    s.clear();
    EXPECT_TRUE(s.allocated());
    EXPECT_EQ(s.contiguous(), 0u);
    std::span<const uint8_t> out;
    EXPECT_EQ(s.first_message(out), Msg::Incomplete);
    EXPECT_EQ(s.add(0, m), Add::Stored);
    EXPECT_EQ(s.first_message(out), Msg::Complete);
}

TEST(CryptoStream, EveryByteSeparatelyInReverse) {
    const Bytes m = message(200);
    CryptoStream s(512);
    for (size_t i = m.size(); i-- > 0;) {
        EXPECT_EQ(s.contiguous(), 0u);
        s.add(i, slice(m, i, 1));
    }
    std::span<const uint8_t> out;
    ASSERT_EQ(s.first_message(out), Msg::Complete);
    EXPECT_EQ(Bytes(out.begin(), out.end()), m);
}

}  // namespace
}  // namespace sybilwatch::quic
