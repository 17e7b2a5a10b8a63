#include "net/stream_reassembler.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

namespace sybilwatch::net {
namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed = 7) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i)
        v[i] = static_cast<uint8_t>(i * 31 + seed);
    return v;
}

std::span<const uint8_t> part(const std::vector<uint8_t>& v, size_t off, size_t len) {
    return std::span<const uint8_t>(v).subspan(off, len);
}

TEST(StreamReassembler, InOrderSegments) {
    BufferPool pool(16384, 4);
    StreamReassembler r;
    const auto data = pattern(3000);
    r.start(1000);
    EXPECT_EQ(r.add(1000, part(data, 0, 1448), pool), StreamReassembler::Result::Added);
    EXPECT_EQ(r.contiguous().size(), 1448u);
    EXPECT_EQ(r.add(2448, part(data, 1448, 1448), pool), StreamReassembler::Result::Added);
    EXPECT_EQ(r.add(3896, part(data, 2896, 104), pool), StreamReassembler::Result::Added);
    ASSERT_EQ(r.contiguous().size(), 3000u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), r.contiguous().begin()));
    EXPECT_EQ(r.ranges(), 1u);
}

TEST(StreamReassembler, OutOfOrderFillsHoles) {
    BufferPool pool(16384, 4);
    StreamReassembler r;
    const auto data = pattern(300);
    r.start(5);
    r.add(205, part(data, 200, 100), pool);
    EXPECT_TRUE(r.contiguous().empty());  // hole at the start
    r.add(105, part(data, 100, 100), pool);
    EXPECT_TRUE(r.contiguous().empty());
    EXPECT_EQ(r.ranges(), 1u);  // [100,300) merged
    r.add(5, part(data, 0, 100), pool);
    ASSERT_EQ(r.contiguous().size(), 300u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), r.contiguous().begin()));
}

TEST(StreamReassembler, RetransmissionIsDuplicateAndFirstCopyWins) {
    BufferPool pool(16384, 4);
    StreamReassembler r;
    const auto data = pattern(100);
    auto evil = pattern(100, 99);
    r.start(0);
    EXPECT_EQ(r.add(0, part(data, 0, 60), pool), StreamReassembler::Result::Added);
    EXPECT_EQ(r.add(0, part(data, 0, 60), pool), StreamReassembler::Result::Duplicate);
    // An overlapping segment with other bytes only contributes what is new.
    EXPECT_EQ(r.add(40, part(evil, 40, 60), pool), StreamReassembler::Result::Added);
    ASSERT_EQ(r.contiguous().size(), 100u);
    EXPECT_TRUE(std::equal(data.begin(), data.begin() + 60, r.contiguous().begin()));
    EXPECT_TRUE(std::equal(evil.begin() + 60, evil.end(), r.contiguous().begin() + 60));
}

TEST(StreamReassembler, DataBeforeStartIsTrimmed) {
    BufferPool pool(16384, 4);
    StreamReassembler r;
    const auto data = pattern(100);
    r.start(50);
    EXPECT_EQ(r.add(0, part(data, 0, 40), pool), StreamReassembler::Result::Duplicate);
    EXPECT_EQ(r.add(30, part(data, 30, 70), pool), StreamReassembler::Result::Added);
    ASSERT_EQ(r.contiguous().size(), 50u);
    EXPECT_EQ(r.contiguous()[0], data[50]);
}

TEST(StreamReassembler, SequenceWrapAround) {
    BufferPool pool(16384, 4);
    StreamReassembler r;
    const auto data = pattern(200);
    r.start(0xFFFFFFA0u);                                  // wraps after 96 bytes
    r.add(0xFFFFFFA0u + 100, part(data, 100, 100), pool);  // = 4 after wrap
    r.add(0xFFFFFFA0u, part(data, 0, 100), pool);
    ASSERT_EQ(r.contiguous().size(), 200u);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), r.contiguous().begin()));
}

TEST(StreamReassembler, BoundedByBufferSize) {
    BufferPool pool(1024, 4);
    StreamReassembler r;
    const auto data = pattern(2048);
    r.start(0);
    EXPECT_EQ(r.add(0, part(data, 0, 2048), pool), StreamReassembler::Result::Added);
    EXPECT_EQ(r.contiguous().size(), 1024u);
    EXPECT_EQ(r.add(5000, part(data, 0, 10), pool), StreamReassembler::Result::OutOfWindow);
}

TEST(StreamReassembler, TooManyHolesGivesUp) {
    BufferPool pool(16384, 4);
    StreamReassembler r;
    const auto data = pattern(16384);
    r.start(0);
    StreamReassembler::Result last = StreamReassembler::Result::Added;
    for (size_t i = 0; i < StreamReassembler::kMaxRanges + 1; ++i)
        last = r.add(static_cast<uint32_t>(10 + i * 20), part(data, 10 + i * 20, 10), pool);
    EXPECT_EQ(last, StreamReassembler::Result::TooFragmented);
    EXPECT_TRUE(r.failed());
}

TEST(StreamReassembler, PoolExhaustionIsReported) {
    BufferPool pool(1024, 1);
    StreamReassembler a, b;
    const auto data = pattern(10);
    EXPECT_EQ(a.add(0, data, pool), StreamReassembler::Result::Added);
    EXPECT_EQ(b.add(0, data, pool), StreamReassembler::Result::NoMemory);
    EXPECT_EQ(pool.exhausted(), 1u);
    a.reset();  // returns the buffer
    StreamReassembler c;
    EXPECT_EQ(c.add(0, data, pool), StreamReassembler::Result::Added);
    EXPECT_EQ(pool.allocated(), 1u);
}

// Any segmentation, order and duplication of a stream reassembles to the stream.
TEST(StreamReassembler, RandomSegmentationsReassemble) {
    std::mt19937 rng(42);
    BufferPool pool(16384, 2);
    for (int iter = 0; iter < 500; ++iter) {
        const size_t n = 1 + rng() % 5000;
        const auto data = pattern(n, static_cast<uint8_t>(iter));
        const uint32_t isn = static_cast<uint32_t>(rng());
        struct Seg {
            size_t off, len;
        };
        std::vector<Seg> segs;
        for (size_t off = 0; off < n;) {
            const size_t len = std::min(n - off, size_t(1 + rng() % 1500));
            segs.push_back({off, len});
            off += len;
        }
        // Duplicates and overlapping retransmissions.
        const size_t extra = rng() % 4;
        for (size_t k = 0; k < extra; ++k) {
            const size_t off = rng() % n;
            segs.push_back({off, std::min(n - off, size_t(1 + rng() % 800))});
        }
        std::shuffle(segs.begin(), segs.end(), rng);
        StreamReassembler r;
        r.start(isn);
        for (const auto& s : segs)
            r.add(isn + static_cast<uint32_t>(s.off), part(data, s.off, s.len), pool);
        ASSERT_EQ(r.contiguous().size(), n) << "iteration " << iter;
        ASSERT_TRUE(std::equal(data.begin(), data.end(), r.contiguous().begin()));
        EXPECT_LE(r.ranges(), 1u);
    }
}

}  // namespace
}  // namespace sybilwatch::net
